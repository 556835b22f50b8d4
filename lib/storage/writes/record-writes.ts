import { assertEnvironmentParent } from '../../core/environment-tree';
import {
  AlreadyExistsError,
  EnvironmentInUseError,
  FeatureFlagsValidationError,
  NotFoundError,
} from '../../core/errors';
import {
  auditEvent,
  environmentClonedEvent,
  environmentEventType,
  flagEventType,
  overrideEventType,
  segmentEventType,
} from '../audit';
import { environmentState, flagState, overrideState, segmentState } from '../audit-states';
import { ResolvedWriteContext } from '../write-context';
import { clonedOverrideInputs } from '../cloned-overrides';
import { EnvironmentClone } from '../feature-flag-storage.interface';
import {
  EnvironmentInput,
  EnvironmentUpdate,
  FlagInput,
  FlagUpdate,
  OverrideInput,
  OverrideRef,
  OverrideUpdate,
  SegmentInput,
  SegmentUpdate,
} from '../inputs';
import { OverrideWithNames, RecordLookups, RecordTransaction } from '../record-transaction';
import { Environment, Flag, Override, Segment, copyEnvironment, copyFlag, copyOverride, copySegment } from '../records';
import {
  buildEnvironment,
  buildFlag,
  buildOverride,
  buildSegment,
  mergeEnvironment,
  mergeFlag,
  mergeOverride,
  mergeSegment,
  unchangedEnvironment,
  unchangedFlag,
  unchangedOverride,
  unchangedSegment,
} from '../storage-records';

/*
 * The writes of flags, environments, overrides and segments, once for every backend: each finds what it
 * needs, builds or merges the record (validating it), checks it against what is stored, writes it, reports
 * the change and records its audit event — all inside the backend's transaction `tx`.
 */

const isString = (value: unknown): value is string => typeof value === 'string';

/** Refuses an input or update that is not an object (before anything reads it). */
function assertObject(value: unknown, field: 'input' | 'update'): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new FeatureFlagsValidationError(field, 'must be an object');
}

/** The slug of an environment's parent, among `all`. */
function parentSlugIn(all: readonly Environment[], env: Environment): string | null {
  return env.parentId ? (all.find((e) => e.id === env.parentId)?.slug ?? null) : null;
}

/**
 * An override, locked against concurrent writers, with its flag's key and type and its environment's slug:
 * in one read where the store offers it (`findOverride`), else three.
 */
async function findOverride(tx: RecordTransaction, by: RecordLookups['override']): Promise<OverrideWithNames | null> {
  if (tx.findOverride) return tx.findOverride(by, true);
  const override = await tx.find('override', by, true);
  if (!override) return null;
  // The override's flag and environment exist (deleting either deletes its overrides in the same transaction).
  const flag = (await tx.find('flag', { id: override.flagId }))!;
  const env = (await tx.find('environment', { id: override.environmentId }))!;
  return { override, flagKey: flag.key, flagType: flag.type, environmentSlug: env.slug };
}

/** Checks and inserts a new environment (every environment in `all`), reporting the change but recording no event. */
async function insertEnvironment(tx: RecordTransaction, all: readonly Environment[], env: Environment): Promise<void> {
  if (all.some((e) => e.slug === env.slug)) throw new AlreadyExistsError('environment', env.slug);
  if (all.some((e) => e.id === env.id)) throw new AlreadyExistsError('environment', env.id);
  assertEnvironmentParent(all, env.slug, null, env.parentId);
  await tx.insert('environment', env);
  tx.emit({ kind: 'environment', op: 'upsert', environment: copyEnvironment(env) });
}

export async function createEnvironment(
  tx: RecordTransaction,
  input: EnvironmentInput,
  ctx: ResolvedWriteContext,
): Promise<Environment> {
  assertObject(input, 'input');
  const env = buildEnvironment(input);
  tx.duplicate = () => new AlreadyExistsError('environment', env.slug);
  const all = await tx.environments();
  await insertEnvironment(tx, all, env);
  await tx.audit(
    auditEvent(environmentEventType(null, env), ctx, {
      environment: env.slug,
      after: environmentState(env, parentSlugIn(all, env)),
    }),
  );
  return copyEnvironment(env);
}

export async function updateEnvironment(
  tx: RecordTransaction,
  update: EnvironmentUpdate,
  ctx: ResolvedWriteContext,
): Promise<Environment> {
  assertObject(update, 'update');
  const all = await tx.environments();
  const byId = 'id' in update && update.id !== undefined;
  const existing = byId
    ? all.find((e) => e.id === update.id)
    : all.find((e) => e.slug === (update as Environment).slug);
  if (!existing) throw new NotFoundError('environment', byId ? String(update.id) : (update as Environment).slug);
  const next = mergeEnvironment(existing, update);
  if (unchangedEnvironment(existing, next)) return copyEnvironment(existing);
  tx.duplicate = () => new AlreadyExistsError('environment', next.slug);
  if (next.slug !== existing.slug && all.some((e) => e.slug === next.slug))
    throw new AlreadyExistsError('environment', next.slug);
  if (next.parentId !== existing.parentId) assertEnvironmentParent(all, next.slug, next.id, next.parentId);
  await tx.update('environment', existing, next);
  tx.emit({ kind: 'environment', op: 'upsert', environment: copyEnvironment(next) });
  await tx.audit(
    auditEvent(environmentEventType(existing, next), ctx, {
      environment: existing.slug,
      before: environmentState(existing, parentSlugIn(all, existing)),
      after: environmentState(next, parentSlugIn(all, next)),
    }),
  );
  return copyEnvironment(next);
}

export async function deleteEnvironment(
  tx: RecordTransaction,
  slug: string,
  ctx: ResolvedWriteContext,
): Promise<boolean> {
  if (!isString(slug)) return false;
  const all = await tx.environments();
  const env = all.find((e) => e.slug === slug);
  if (!env) return false;
  const children = all.filter((e) => e.parentId === env.id).map((e) => e.slug);
  if (children.length > 0) throw new EnvironmentInUseError(slug, children);
  const deletedOverrides = await tx.delete('environment', env);
  tx.emit({ kind: 'environment', op: 'delete', id: env.id, slug: env.slug });
  await tx.audit(
    auditEvent(environmentEventType(env, null), ctx, {
      environment: env.slug,
      before: environmentState(env, parentSlugIn(all, env)),
      data: { deletedOverrides },
    }),
  );
  return true;
}

/** A new environment with a copy of every override of `source` (see `FeatureFlagStorage.cloneEnvironment`). */
export async function cloneEnvironment(
  tx: RecordTransaction,
  source: string,
  input: EnvironmentInput,
  ctx: ResolvedWriteContext,
): Promise<EnvironmentClone> {
  assertObject(input, 'input');
  const env = buildEnvironment(input);
  tx.duplicate = () => new AlreadyExistsError('environment', env.slug);
  const all = await tx.environments();
  const from = all.find((e) => e.slug === source);
  if (!from) throw new NotFoundError('environment', String(source));
  await insertEnvironment(tx, all, env);
  // The clone serves what its source serves: every flag's resolved fields, wherever it is re-parented.
  const inputs = clonedOverrideInputs(all, await tx.flags(), await tx.overrides(), from, env);
  const copies: Override[] = [];
  for (const { input: copyInput, flag } of inputs) {
    const copy = buildOverride(copyInput, flag.type);
    await tx.insert('override', copy);
    tx.emit({ kind: 'override', op: 'upsert', override: copyOverride(copy) });
    copies.push(copy);
  }
  await tx.audit(
    environmentClonedEvent(ctx, env, parentSlugIn(all, env), from.slug, copies, (_copy, i) => inputs[i].flag.key),
  );
  return { environment: copyEnvironment(env), overrides: copies.map(copyOverride) };
}

export async function createFlag(tx: RecordTransaction, input: FlagInput, ctx: ResolvedWriteContext): Promise<Flag> {
  assertObject(input, 'input');
  const flag = buildFlag(input);
  tx.duplicate = () => new AlreadyExistsError('flag', flag.key);
  if (await tx.exists('flag', { key: flag.key })) throw new AlreadyExistsError('flag', flag.key);
  if (await tx.exists('flag', { id: flag.id })) throw new AlreadyExistsError('flag', flag.id);
  await tx.insert('flag', flag);
  tx.emit({ kind: 'flag', op: 'upsert', flag: copyFlag(flag) });
  await tx.audit(auditEvent(flagEventType(null, flag), ctx, { flagKey: flag.key, after: flagState(flag) }));
  return copyFlag(flag);
}

export async function updateFlag(tx: RecordTransaction, update: FlagUpdate, ctx: ResolvedWriteContext): Promise<Flag> {
  assertObject(update, 'update');
  const byId = 'id' in update && update.id !== undefined;
  const identifier = byId ? update.id : (update as { key: string }).key;
  const existing = isString(identifier)
    ? await tx.find('flag', byId ? { id: identifier } : { key: identifier }, true)
    : null;
  if (!existing) throw new NotFoundError('flag', String(identifier));
  const next = mergeFlag(existing, update);
  if (unchangedFlag(existing, next)) return copyFlag(existing);
  tx.duplicate = () => new AlreadyExistsError('flag', next.key);
  if (next.key !== existing.key && (await tx.exists('flag', { key: next.key })))
    throw new AlreadyExistsError('flag', next.key);
  await tx.update('flag', existing, next);
  tx.emit({ kind: 'flag', op: 'upsert', flag: copyFlag(next) });
  await tx.audit(
    auditEvent(flagEventType(existing, next), ctx, {
      flagKey: existing.key,
      before: flagState(existing),
      after: flagState(next),
    }),
  );
  return copyFlag(next);
}

export async function deleteFlag(tx: RecordTransaction, key: string, ctx: ResolvedWriteContext): Promise<boolean> {
  const flag = isString(key) ? await tx.find('flag', { key }, true) : null;
  if (!flag) return false;
  const deletedOverrides = await tx.delete('flag', flag);
  tx.emit({ kind: 'flag', op: 'delete', id: flag.id, key: flag.key });
  await tx.audit(
    auditEvent(flagEventType(flag, null), ctx, {
      flagKey: flag.key,
      before: flagState(flag),
      data: { deletedOverrides },
    }),
  );
  return true;
}

export async function createOverride(
  tx: RecordTransaction,
  input: OverrideInput,
  ctx: ResolvedWriteContext,
): Promise<Override> {
  assertObject(input, 'input');
  const env = isString(input.environmentId) ? await tx.find('environment', { id: input.environmentId }) : null;
  if (!env) throw new NotFoundError('environment', input.environmentId);
  const flag = isString(input.flagId) ? await tx.find('flag', { id: input.flagId }) : null;
  if (!flag) throw new NotFoundError('flag', input.flagId);
  const override = buildOverride(input, flag.type);
  tx.duplicate = () => new AlreadyExistsError('override', `${flag.key}@${env.slug}`);
  if (await tx.exists('override', { environmentId: env.id, flagId: flag.id })) throw tx.duplicate();
  if (await tx.exists('override', { id: override.id })) throw new AlreadyExistsError('override', override.id);
  await tx.insert('override', override);
  tx.emit({ kind: 'override', op: 'upsert', override: copyOverride(override) });
  await tx.audit(
    auditEvent(overrideEventType(null, override), ctx, {
      flagKey: flag.key,
      environment: env.slug,
      after: overrideState(override),
    }),
  );
  return copyOverride(override);
}

export async function updateOverride(
  tx: RecordTransaction,
  update: OverrideUpdate,
  ctx: ResolvedWriteContext,
): Promise<Override> {
  assertObject(update, 'update');
  const byId = 'id' in update && update.id !== undefined;
  const { environmentId, flagId } = update as Partial<Override>;
  let found: OverrideWithNames | null = null;
  if (byId) found = isString(update.id) ? await findOverride(tx, { id: update.id }) : null;
  else if (isString(environmentId) && isString(flagId)) found = await findOverride(tx, { environmentId, flagId });
  if (!found) throw new NotFoundError('override', byId ? String(update.id) : `${flagId}@${environmentId}`);
  const existing = found.override;
  const next = mergeOverride(existing, update, found.flagType);
  if (unchangedOverride(existing, next)) return copyOverride(existing);
  await tx.update('override', existing, next);
  tx.emit({ kind: 'override', op: 'upsert', override: copyOverride(next) });
  await tx.audit(
    auditEvent(overrideEventType(existing, next), ctx, {
      flagKey: found.flagKey,
      environment: found.environmentSlug,
      before: overrideState(existing),
      after: overrideState(next),
    }),
  );
  return copyOverride(next);
}

export async function deleteOverride(
  tx: RecordTransaction,
  ref: OverrideRef,
  ctx: ResolvedWriteContext,
): Promise<boolean> {
  if (!isString(ref?.envId) || !isString(ref.flagId)) return false;
  const found = await findOverride(tx, { environmentId: ref.envId, flagId: ref.flagId });
  if (!found) return false;
  const o = found.override;
  await tx.delete('override', o);
  tx.emit({ kind: 'override', op: 'delete', id: o.id, environmentId: o.environmentId, flagId: o.flagId });
  await tx.audit(
    auditEvent(overrideEventType(o, null), ctx, {
      flagKey: found.flagKey,
      environment: found.environmentSlug,
      before: overrideState(o),
    }),
  );
  return true;
}

export async function createSegment(
  tx: RecordTransaction,
  input: SegmentInput,
  ctx: ResolvedWriteContext,
): Promise<Segment> {
  assertObject(input, 'input');
  const segment = buildSegment(input);
  tx.duplicate = () => new AlreadyExistsError('segment', segment.key);
  if (await tx.exists('segment', { key: segment.key })) throw new AlreadyExistsError('segment', segment.key);
  if (await tx.exists('segment', { id: segment.id })) throw new AlreadyExistsError('segment', segment.id);
  if (segment.parentId && !(await tx.exists('segment', { id: segment.parentId })))
    throw new NotFoundError('segment', segment.parentId);
  await tx.insert('segment', segment);
  tx.emit({ kind: 'segment', op: 'upsert', segment: copySegment(segment) });
  await tx.audit(
    auditEvent(segmentEventType(null, segment), ctx, { after: segmentState(segment), data: { segment: segment.key } }),
  );
  return copySegment(segment);
}

export async function updateSegment(
  tx: RecordTransaction,
  update: SegmentUpdate,
  ctx: ResolvedWriteContext,
): Promise<Segment> {
  assertObject(update, 'update');
  const byId = 'id' in update && update.id !== undefined;
  const identifier = byId ? update.id : (update as Segment).key;
  const existing = isString(identifier)
    ? await tx.find('segment', byId ? { id: identifier } : { key: identifier }, true)
    : null;
  if (!existing) throw new NotFoundError('segment', String(identifier));
  const next = mergeSegment(existing, update);
  if (unchangedSegment(existing, next)) return copySegment(existing);
  tx.duplicate = () => new AlreadyExistsError('segment', next.key);
  if (next.key !== existing.key && (await tx.exists('segment', { key: next.key })))
    throw new AlreadyExistsError('segment', next.key);
  if (next.parentId && !(await tx.exists('segment', { id: next.parentId })))
    throw new NotFoundError('segment', next.parentId);
  await tx.update('segment', existing, next);
  tx.emit({ kind: 'segment', op: 'upsert', segment: copySegment(next) });
  await tx.audit(
    auditEvent(segmentEventType(existing, next), ctx, {
      before: segmentState(existing),
      after: segmentState(next),
      data: { segment: existing.key },
    }),
  );
  return copySegment(next);
}

export async function deleteSegment(tx: RecordTransaction, key: string, ctx: ResolvedWriteContext): Promise<boolean> {
  const s = isString(key) ? await tx.find('segment', { key }, true) : null;
  if (!s) return false;
  await tx.delete('segment', s);
  tx.emit({ kind: 'segment', op: 'delete', id: s.id, key: s.key });
  await tx.audit(auditEvent(segmentEventType(s, null), ctx, { before: segmentState(s), data: { segment: s.key } }));
  return true;
}
