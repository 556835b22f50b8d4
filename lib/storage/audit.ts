import { JsonValue } from '../core/types';
import { changeRequestState, environmentState, overrideState } from './audit-states';
import { ApiToken, AuditEvent, ChangeRequest, Environment, Flag, Override, Segment } from './records';
import { copyFields } from './records/copies';
import { ResolvedWriteContext } from './write-context';

/**
 * The audit log's shared rules, so that every backend records the same events: which type a write gets and
 * how an event is built (what its `before`/`after` hold: audit-states.ts; its filters: audit-filter.ts),
 * and how events reach subscribers once committed.
 */

/**
 * The event types storage records, named `<record>-<what happened>` in the product's words (a flag's
 * events `flag-*`, an override's `override-*`). A `WriteContext` may name another type (lower-case, digits
 * and `-`). Events stored under the earlier `feature-*` names read with these (see `legacy-names.ts`).
 */
export const AUDIT_EVENT_TYPES = [
  'flag-created',
  'flag-updated',
  'flag-archived',
  'flag-revived',
  'flag-deleted',
  'flag-environment-enabled',
  'flag-environment-disabled',
  'override-created',
  'override-updated',
  'override-deleted',
  'flag-promoted',
  'environment-created',
  'environment-updated',
  'environment-deleted',
  'environment-cloned',
  'segment-created',
  'segment-updated',
  'segment-deleted',
  'api-token-created',
  'api-token-revoked',
  'client-key-created',
  'client-key-revoked',
  'change-request-created',
  'change-request-approved',
  'change-request-rejected',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** An event before storage numbers it. */
export type AuditEventInput = Omit<AuditEvent, 'id'>;

/** Builds an event from its parts and the writer's context (the context's type wins over `type`). */
export function auditEvent(
  type: string,
  context: ResolvedWriteContext,
  subject: {
    flagKey?: string | null;
    environment?: string | null;
    before?: JsonValue | null;
    after?: JsonValue | null;
    data?: Record<string, JsonValue>;
  },
  now = new Date(),
): AuditEventInput {
  const data = context.data || subject.data ? { ...(subject.data ?? {}), ...(context.data ?? {}) } : null;
  return new AuditEvent({
    type: context.eventType ?? type,
    actor: context.actor,
    flagKey: subject.flagKey ?? null,
    environment: subject.environment ?? null,
    before: subject.before ?? null,
    after: subject.after ?? null,
    reason: context.reason,
    data,
    createdAt: now,
  });
}

/** The type of a flag write: archiving and reviving are named, other updates are `flag-updated`. */
export function flagEventType(before: Flag | null, after: Flag | null): AuditEventType {
  if (!before) return 'flag-created';
  if (!after) return 'flag-deleted';
  if (after.status === 'archived' && before.status !== 'archived') return 'flag-archived';
  if (before.status === 'archived' && after.status !== 'archived') return 'flag-revived';
  return 'flag-updated';
}

/**
 * The type of an override write: one that turns `enabled` on or off is
 * `flag-environment-enabled` / `-disabled` (whatever else it changes); others are
 * `override-created`, `-updated` or `-deleted`.
 */
export function overrideEventType(before: Override | null, after: Override | null): AuditEventType {
  if (!after) return 'override-deleted';
  if (after.enabled === true && before?.enabled !== true) return 'flag-environment-enabled';
  if (after.enabled === false && before?.enabled !== false) return 'flag-environment-disabled';
  return before ? 'override-updated' : 'override-created';
}

export function environmentEventType(before: Environment | null, after: Environment | null): AuditEventType {
  return !before ? 'environment-created' : !after ? 'environment-deleted' : 'environment-updated';
}

export function segmentEventType(before: Segment | null, after: Segment | null): AuditEventType {
  return !before ? 'segment-created' : !after ? 'segment-deleted' : 'segment-updated';
}

/** Fan-out of audit events to subscribers; a throwing listener does not stop the others. */
export class AuditEventNotifier {
  private readonly listeners = new Set<(event: AuditEvent) => void>();

  subscribe(listener: (event: AuditEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: AuditEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(copyEvent(event));
      } catch {
        // A subscriber's failure must not undo or block a write that is already durable.
      }
    }
  }
}

/** The parts of a change request's audit event. */
export function changeRequestSubject(
  request: ChangeRequest,
  before: ChangeRequest | null,
): {
  flagKey: string | null;
  environment: string | null;
  before: JsonValue | null;
  after: JsonValue;
  data: Record<string, JsonValue>;
} {
  return {
    flagKey: request.flagKey,
    environment: request.environments.length === 1 ? request.environments[0] : null,
    before: before ? changeRequestState(before) : null,
    after: changeRequestState(request),
    data: { changeRequestId: request.id, environments: request.environments },
  };
}

export const copyEvent = (e: AuditEvent): AuditEvent => new AuditEvent(copyFields(e));
export const copyApiToken = (t: ApiToken): ApiToken => new ApiToken(copyFields(t));
export const copyChangeRequest = (c: ChangeRequest): ChangeRequest => new ChangeRequest(copyFields(c));

/**
 * The `environment-cloned` event: the new environment and every override copied into it, keyed by flag.
 * @param flagKeyOf the key of a copied override's flag.
 */
export function environmentClonedEvent(
  ctx: ResolvedWriteContext,
  env: Environment,
  parentSlug: string | null,
  sourceSlug: string,
  copies: Override[],
  flagKeyOf: (copy: Override, index: number) => string,
): AuditEventInput {
  return auditEvent('environment-cloned', ctx, {
    environment: env.slug,
    after: {
      environment: environmentState(env, parentSlug),
      overrides: copies.map((c, i) => ({ flagKey: flagKeyOf(c, i), ...(overrideState(c) as object) })),
    },
    data: { source: sourceSlug, overrides: copies.length },
  });
}
