import { FeatureFlagsValidationError } from '../core/errors';
import { JsonValue } from '../core/types';
import { longerThan } from '../core/validation';
import { ApiToken, AuditEvent, ChangeRequest, Environment, Flag, Override, Segment } from './records';
import { AuditEventFilter, StorageWrite, WriteContext } from './feature-flag-storage.interface';

/**
 * The audit log's shared rules, so that every backend records the same events: which type a write gets,
 * what its `before`/`after` hold, and how filters apply.
 */

/** The actor of writes made without a `WriteContext`. */
export const SYSTEM_ACTOR = 'system';

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

const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;
const MAX_ACTOR_LENGTH = 255;
/** The largest JSON the SQL backends keep in one text column (MySQL's TEXT holds 65,535 bytes). */
export const MAX_JSON_BYTES = 65_535;

/** A WriteContext with its defaults applied. */
export interface ResolvedWriteContext {
  actor: string;
  reason: string | null;
  eventType: string | undefined;
  data: Record<string, JsonValue> | null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/** Validates a WriteContext (naming `context.<field>`) and applies its defaults. */
export function resolveWriteContext(context: WriteContext | undefined): ResolvedWriteContext {
  if (context === undefined || context === null)
    return { actor: SYSTEM_ACTOR, reason: null, eventType: undefined, data: null };
  if (typeof context !== 'object' || Array.isArray(context))
    throw new FeatureFlagsValidationError('context', 'must be an object');
  const { actor, reason, eventType, data } = context;
  if (
    actor !== undefined &&
    (typeof actor !== 'string' || actor.trim() === '' || longerThan(actor, MAX_ACTOR_LENGTH))
  ) {
    throw new FeatureFlagsValidationError(
      'context.actor',
      `must be a non-empty string of at most ${MAX_ACTOR_LENGTH} characters`,
    );
  }
  if (reason !== undefined && reason !== null && typeof reason !== 'string')
    throw new FeatureFlagsValidationError('context.reason', 'must be a string');
  if (eventType !== undefined && (typeof eventType !== 'string' || !EVENT_TYPE_PATTERN.test(eventType))) {
    throw new FeatureFlagsValidationError(
      'context.eventType',
      'must be lower-case letters, digits and "-", at most 64 characters',
    );
  }
  if (data !== undefined && data !== null) {
    if (!isPlainObject(data)) throw new FeatureFlagsValidationError('context.data', 'must be a JSON object');
    assertJsonSize(data, 'context.data');
  }
  return { actor: actor ?? SYSTEM_ACTOR, reason: reason ?? null, eventType, data: data ? structuredClone(data) : null };
}

/** The context of one write of a batch: its own over the batch's (data merged). */
export function mergeWriteContexts(
  batch: WriteContext | undefined,
  own: WriteContext | undefined,
): WriteContext | undefined {
  if (own === undefined) return batch;
  if (batch === undefined) return own;
  const data = batch.data || own.data ? { ...(batch.data ?? {}), ...(own.data ?? {}) } : undefined;
  return { ...batch, ...own, ...(data ? { data } : {}) };
}

/** Refuses JSON larger than the SQL backends keep. */
export function assertJsonSize(value: unknown, field: string, max = MAX_JSON_BYTES): void {
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    throw new FeatureFlagsValidationError(field, 'must be JSON');
  }
  if (json !== undefined && Buffer.byteLength(json) > max)
    throw new FeatureFlagsValidationError(field, `must be at most ${max} bytes of JSON`);
}

/** Checks a batch's shape (the writes themselves are checked as each applies). */
export function assertWrites(writes: unknown, field = 'writes', max = 1000): asserts writes is StorageWrite[] {
  if (!Array.isArray(writes)) throw new FeatureFlagsValidationError(field, 'must be an array of writes');
  if (writes.length > max) throw new FeatureFlagsValidationError(field, `must hold at most ${max} writes`);
  writes.forEach((w, i) => {
    if (!isPlainObject(w) || typeof w.op !== 'string' || !WRITE_OPS.includes(w.op as StorageWrite['op'])) {
      throw new FeatureFlagsValidationError(`${field}[${i}].op`, `must be one of ${WRITE_OPS.join(', ')}`);
    }
  });
}

export const WRITE_OPS: readonly StorageWrite['op'][] = [
  'createEnvironment',
  'updateEnvironment',
  'deleteEnvironment',
  'createFlag',
  'updateFlag',
  'deleteFlag',
  'createOverride',
  'updateOverride',
  'deleteOverride',
  'createSegment',
  'updateSegment',
  'deleteSegment',
];

// What an event keeps of each record: every field a reader needs to see what changed, without ids of
// rows that are replaced on every write (rule ids) or timestamps (the event has its own).

export function flagState(f: Flag): JsonValue {
  return json({
    key: f.key,
    name: f.name,
    description: f.description,
    type: f.type,
    status: f.status,
    defaultEnabled: f.defaultEnabled,
    defaultValue: f.defaultValue,
    tags: f.tags,
    metadata: f.metadata,
    rules: (f.rules ?? []).map((r) => ({
      name: r.name,
      priority: r.priority,
      enabled: r.enabled,
      conditions: r.conditions,
      serveEnabled: r.serveEnabled,
      serveValue: r.serveValue,
      rolloutPercentage: r.rolloutPercentage,
    })),
    variants: f.variants,
    version: f.version,
  });
}

export function environmentState(e: Environment, parentSlug?: string | null): JsonValue {
  return json({
    slug: e.slug,
    name: e.name,
    description: e.description,
    parent: parentSlug ?? null,
    type: e.type,
    settings: e.settings,
    isActive: e.isActive,
    version: e.version,
  });
}

export function overrideState(o: Override): JsonValue {
  return json({
    enabled: o.enabled,
    percentage: o.percentage,
    rules: o.rules,
    value: o.value,
    variants: o.variants ?? null,
    reason: o.reason ?? null,
    version: o.version,
  });
}

export function segmentState(s: Segment): JsonValue {
  return json({
    key: s.key,
    name: s.name,
    description: s.description,
    conditions: s.conditions,
    parentId: s.parentId,
    version: s.version,
  });
}

export function apiTokenState(t: ApiToken): JsonValue {
  return json({
    id: t.id,
    name: t.name,
    type: t.type,
    environments: t.environments,
    secretHint: t.secretHint,
    expiresAt: t.expiresAt ? t.expiresAt.toISOString() : null,
    revokedAt: t.revokedAt ? t.revokedAt.toISOString() : null,
  });
}

export function changeRequestState(c: ChangeRequest): JsonValue {
  return json({
    id: c.id,
    status: c.status,
    title: c.title,
    environments: c.environments,
    flagKey: c.flagKey,
    createdBy: c.createdBy,
    decidedBy: c.decidedBy,
    version: c.version,
  });
}

function json(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

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

/** A filter with its defaults, validated (naming `filter.<field>`). */
export interface ResolvedEventFilter extends AuditEventFilter {
  types: string[] | undefined;
  order: 'asc' | 'desc';
  limit: number;
}

export const MAX_EVENT_PAGE = 1000;

export function resolveEventFilter(filter: AuditEventFilter | undefined): ResolvedEventFilter {
  const f = filter ?? {};
  const fail = (field: string, problem: string): never => {
    throw new FeatureFlagsValidationError(`filter.${field}`, problem);
  };
  for (const field of ['flagKey', 'environment', 'actor'] as const) {
    if (f[field] !== undefined && typeof f[field] !== 'string') fail(field, 'must be a string');
  }
  const types = f.type === undefined ? undefined : Array.isArray(f.type) ? f.type : [f.type];
  if (types && types.some((t) => typeof t !== 'string')) fail('type', 'must be a string or an array of strings');
  for (const field of ['since', 'until'] as const) {
    const v = f[field];
    if (
      v !== undefined &&
      !(Object.prototype.toString.call(v) === '[object Date]' && !Number.isNaN((v as Date).getTime()))
    )
      fail(field, 'must be a valid Date');
  }
  for (const field of ['beforeId', 'afterId'] as const) {
    const v = f[field];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 0)) fail(field, 'must be a non-negative integer');
  }
  if (f.order !== undefined && f.order !== 'asc' && f.order !== 'desc') fail('order', 'must be "asc" or "desc"');
  const limit = f.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_PAGE)
    fail('limit', `must be an integer from 1 to ${MAX_EVENT_PAGE}`);
  return { ...f, types, order: f.order ?? 'desc', limit };
}

/** Whether an event passes a filter (for backends that filter in memory). */
export function eventMatches(e: AuditEvent, f: ResolvedEventFilter): boolean {
  if (f.flagKey !== undefined && e.flagKey !== f.flagKey) return false;
  if (f.environment !== undefined && e.environment !== f.environment) return false;
  if (f.actor !== undefined && e.actor !== f.actor) return false;
  if (f.types !== undefined && !f.types.includes(e.type)) return false;
  if (f.since !== undefined && e.createdAt.getTime() < f.since.getTime()) return false;
  if (f.until !== undefined && e.createdAt.getTime() >= f.until.getTime()) return false;
  if (f.beforeId !== undefined && e.id >= f.beforeId) return false;
  if (f.afterId !== undefined && e.id <= f.afterId) return false;
  return true;
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

/** The context of a decision's own event. */
export function decisionContext(d: { actor: string; reason: string | null }): ResolvedWriteContext {
  return { actor: d.actor, reason: d.reason, eventType: undefined, data: null };
}

export const copyEvent = (e: AuditEvent): AuditEvent => new AuditEvent(structuredClone({ ...e }));
export const copyApiToken = (t: ApiToken): ApiToken => new ApiToken(structuredClone({ ...t }));
export const copyChangeRequest = (c: ChangeRequest): ChangeRequest => new ChangeRequest(structuredClone({ ...c }));

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
