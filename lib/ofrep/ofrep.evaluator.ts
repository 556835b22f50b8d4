import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { EvaluationContext, EvaluationDetails, FlagValue } from '../core/types';
import { FlagSnapshot } from '../core/snapshot';
import { FeatureFlagsService } from '../feature-flags.service';
import { OfrepHttpError } from './ofrep.errors';

/** The reasons OFREP 0.3.0 allows in a success; ours outside it are sent as UNKNOWN, the precise one in metadata. */
const OFREP_REASONS = new Set(['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'UNKNOWN']);

/** One flag's OFREP evaluation: success (`value` absent: use the code default) or failure. */
export type OfrepEvaluation =
  | {
      key: string;
      reason: string;
      value?: FlagValue;
      variant?: string;
      metadata: Record<string, string | number | boolean>;
    }
  | { key: string; errorCode: string; errorDetails: string };

/** What the bulk route answers. */
export interface OfrepBulkResult {
  body: { flags: OfrepEvaluation[]; metadata: Record<string, string> };
  etag: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Evaluates flags for OFREP in a client key's environment: the request's context is checked (400
 * `PARSE_ERROR` / `INVALID_CONTEXT`), its `environment` attribute is replaced by the key's, and each
 * result is put in OFREP's shape.
 */
@Injectable()
export class OfrepEvaluator {
  constructor(
    private readonly service: FeatureFlagsService,
    private readonly snapshot: FlagSnapshot,
  ) {}

  /** The evaluation context of a request body, or a 400 naming what is wrong (`key` for the single route). */
  context(body: unknown, environment: string, key?: string): EvaluationContext {
    const fail = (errorCode: string, errorDetails: string): never => {
      throw new OfrepHttpError(400, key === undefined ? { errorCode, errorDetails } : { key, errorCode, errorDetails });
    };
    if (!isPlainObject(body)) fail('PARSE_ERROR', 'The request body must be a JSON object: {"context": {…}}.');
    const context = (body as Record<string, unknown>).context;
    if (context === undefined) fail('INVALID_CONTEXT', 'The request body needs a "context" object.');
    if (!isPlainObject(context)) fail('INVALID_CONTEXT', 'The "context" must be a JSON object.');
    const ctx = context as Record<string, unknown>;
    if (ctx.targetingKey !== undefined && typeof ctx.targetingKey !== 'string')
      fail('INVALID_CONTEXT', 'The context\'s "targetingKey" must be a string.');
    // The key's environment wins over anything the request names.
    return { ...ctx, environment };
  }

  /** One flag: 200 with a success, 404 `FLAG_NOT_FOUND`, or 400 with the evaluation's failure. */
  evaluateFlag(key: string, context: EvaluationContext): OfrepEvaluation {
    const result = this.toOfrep(key, this.service.evaluate(key, context));
    if ('errorCode' in result) throw new OfrepHttpError(result.errorCode === 'FLAG_NOT_FOUND' ? 404 : 400, result);
    return result;
  }

  /** Every flag but archived ones, by key, with the answer's ETag (a digest of the answer). */
  evaluateAll(context: EvaluationContext, environment: string): OfrepBulkResult {
    const flags = this.snapshot
      .listFlags()
      .filter((f) => f.status !== 'archived')
      .map((f) => f.key)
      .sort()
      .map((key) => this.toOfrep(key, this.service.evaluate(key, context)));
    const body = { flags, metadata: { environment } };
    const etag = `"${createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 32)}"`;
    return { body, etag };
  }

  private toOfrep(key: string, d: EvaluationDetails<FlagValue>): OfrepEvaluation {
    if (d.errorCode !== undefined) {
      return {
        key,
        errorCode: d.errorCode === 'TYPE_MISMATCH' ? 'GENERAL' : d.errorCode,
        errorDetails: d.errorMessage ?? 'The evaluation failed.',
      };
    }
    if (Array.isArray(d.value)) {
      return {
        key,
        errorCode: 'GENERAL',
        errorDetails: `Flag "${key}" serves a JSON array, which OFREP cannot carry (a value is a boolean, string, number or object).`,
      };
    }
    const metadata: Record<string, string> = { source: d.source };
    if (d.environment !== null) metadata.environment = d.environment;
    let reason: string = d.reason;
    if (!OFREP_REASONS.has(reason)) {
      metadata.reason = reason;
      reason = 'UNKNOWN';
    }
    const success: OfrepEvaluation = { key, reason, metadata };
    // null: the flag is off (non-boolean) or has no value: the client uses the default in its code.
    if (d.value !== null) success.value = d.value;
    if (d.variant !== undefined) success.variant = d.variant;
    return success;
  }
}
