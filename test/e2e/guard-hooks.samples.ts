/**
 * A guard that subclasses FeatureFlagGuard through its protected hooks, as docs/guard-hooks.md shows it
 * (the same code, verbatim); guard-hooks.spec.ts runs it on Express and Fastify.
 */
import { ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { EvaluationContext, FeatureFlagGuard, WhenDisabled } from '../../lib';

@Injectable()
export class TenantFlagGuard extends FeatureFlagGuard {
  /** Internal tools always evaluate in staging, whatever the request names. */
  protected override getEnvironment(context: ExecutionContext): string | null {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    return request.headers['x-internal-tool'] === 'yes' ? 'staging' : super.getEnvironment(context);
  }

  /** Buckets by tenant rather than by user. */
  protected override getEvaluationContext(context: ExecutionContext): EvaluationContext {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    return { ...super.getEvaluationContext(context), targetingKey: request.headers['x-tenant'] };
  }

  /** A flag named `kill.*` is never overridden by a tenant allow-list; others also pass for "acme". */
  protected override isFlagEnabled(
    flagKey: string,
    environment: string | null,
    evaluationContext: EvaluationContext,
    context: ExecutionContext,
  ): boolean {
    if (!flagKey.startsWith('kill.') && evaluationContext.targetingKey === 'acme') return true;
    return super.isFlagEnabled(flagKey, environment, evaluationContext, context);
  }

  /** One body for every refusal. */
  protected override disabledException(
    flagKeys: string[],
    environment: string | null,
    _context: ExecutionContext,
    _whenDisabled: WhenDisabled,
  ): Error {
    return new ForbiddenException({ code: 'FLAG_OFF', flagKeys, environment });
  }
}
