import { randomUUID } from 'node:crypto';
import { SnapshotData, StorageChange, StorageChangeListener } from '../core/changes';
import { AlreadyExistsError, EnvironmentInUseError, NotFoundError } from '../core/errors';
import { assertEnvironmentParent } from '../core/environment-tree';
import { ApiToken, AuditEvent, ChangeRequest, ClientKey, Environment, EnvironmentFlag, Flag, FlagRule, Segment } from './records';
import {
  AdminRecordAlreadyExistsError,
  AdminRecordNotFoundError,
  ApiTokenInput,
  ChangeRequestApproval,
  ClientKeyInput,
  ChangeRequestDecision,
  ChangeRequestFilter,
  ChangeRequestInput,
  ChangeRequestNotPendingError,
  FeatureFlagAdminStorage,
} from './feature-flag-admin-storage.interface';
import {
  AuditEventFilter,
  AuditEventListener,
  EnvironmentClone,
  EnvironmentFlagInput,
  EnvironmentFlagRef,
  EnvironmentFlagUpdate,
  EnvironmentInput,
  EnvironmentUpdate,
  FeatureFlagStorage,
  FlagFilter,
  FlagInput,
  FlagUpdate,
  SegmentInput,
  SegmentUpdate,
  StorageWrite,
  StorageWriteResult,
  WriteContext,
} from './feature-flag-storage.interface';
import {
  assertWrites,
  auditEvent,
  AuditEventInput,
  AuditEventNotifier,
  changeRequestSubject,
  decisionContext,
  copyApiToken,
  copyChangeRequest,
  copyEvent,
  environmentClonedEvent,
  environmentEventType,
  environmentState,
  eventMatches,
  flagEventType,
  flagState,
  mergeWriteContexts,
  overrideEventType,
  overrideState,
  resolveEventFilter,
  resolveWriteContext,
  ResolvedWriteContext,
  segmentEventType,
  segmentState,
} from './audit';
import {
  assertChangeRequestFilter,
  buildApiToken,
  buildChangeRequest,
  changeRequestMatches,
  decidedChangeRequest,
  resolveDecision,
} from './admin-records';
import { API_TOKEN_RECORDS, buildClientKey, CLIENT_KEY_RECORDS, copyClientKey, SecretRecord, SecretRecordKind } from './secret-records';
import {
  assertVersion,
  ChangeNotifier,
  buildEnvironment,
  buildEnvironmentFlag,
  buildFlag,
  buildSegment,
  mergeEnvironment,
  mergeEnvironmentFlag,
  mergeFlag,
  mergeSegment,
  unchangedEnvironment,
  unchangedEnvironmentFlag,
  unchangedFlag,
  unchangedSegment,
} from './storage-records';
import { clonedOverrideInputs } from './cloned-overrides';

/**
 * Deep copies of records (shared by backends): storage keeps and hands out copies only, so that neither the
 * objects a caller passed in nor those it got back share anything with what is stored.
 */
export const copyEnvironment = (e: Environment): Environment => new Environment(structuredClone({ ...e }));
export const copyFlag = (f: Flag): Flag =>
  new Flag({ ...structuredClone({ ...f, rules: undefined }), rules: f.rules.map((r) => new FlagRule(structuredClone({ ...r }))) });
export const copyOverride = (o: EnvironmentFlag): EnvironmentFlag => new EnvironmentFlag(structuredClone({ ...o }));
export const copySegment = (s: Segment): Segment => new Segment(structuredClone({ ...s }));

/** Matches a flag against a `listFlags` filter (shared by backends that filter in memory). */
export function flagMatches(flag: Flag, filter: FlagFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.status !== undefined) {
    const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
    if (!statuses.includes(flag.status)) return false;
  }
  if (filter.tag !== undefined && !flag.tags.includes(filter.tag)) return false;
  if (filter.search !== undefined) {
    const q = filter.search.toLowerCase();
    if (!flag.key.toLowerCase().includes(q) && !flag.name.toLowerCase().includes(q)) return false;
  }
  return true;
}

/** Options of MemoryStorage. */
export interface MemoryStorageOptions {
  /** How many audit events are kept (the oldest go first). Default 10,000. */
  maxEvents?: number;
}

/** A write in progress: how to undo it, and what to report once it is done. */
interface MemoryTx {
  undo: (() => void)[];
  changes: StorageChange[];
  events: AuditEventInput[];
}

/**
 * Keeps everything in process memory: for tests, local development and single-instance apps that declare
 * their flags at boot. Nothing survives a restart. Writes are synchronous inside, so each one (and each
 * batch) is atomic and isolated; a refused batch is undone.
 */
export class MemoryStorage implements FeatureFlagStorage, FeatureFlagAdminStorage {
  private readonly environments = new Map<string, Environment>();
  private readonly flags = new Map<string, Flag>();
  private readonly overrides = new Map<string, EnvironmentFlag>();
  private readonly segments = new Map<string, Segment>();
  private readonly tokens = new Map<string, ApiToken>();
  private readonly clientKeys = new Map<string, ClientKey>();
  private readonly changeRequests = new Map<string, ChangeRequest>();
  private readonly events: AuditEvent[] = [];
  private nextEventId = 1;
  private readonly maxEvents: number;
  /** Tells this store's revisions from another's. */
  private readonly epoch = randomUUID();
  private readonly notifier = new ChangeNotifier();
  private readonly eventNotifier = new AuditEventNotifier();
  private tx: MemoryTx | undefined;

  constructor(options: MemoryStorageOptions = {}) {
    this.maxEvents = options.maxEvents ?? 10_000;
  }

  async init(): Promise<void> {}

  async close(): Promise<void> {}

  subscribe(listener: StorageChangeListener): () => void {
    return this.notifier.subscribe(listener);
  }

  subscribeEvents(listener: AuditEventListener): () => void {
    return this.eventNotifier.subscribe(listener);
  }

  /** The number of applied writes. */
  async revision(): Promise<string> {
    return `${this.epoch}:${this.notifier.count}`;
  }

  async loadSnapshot(): Promise<SnapshotData> {
    return {
      environments: [...this.environments.values()].map(copyEnvironment),
      flags: [...this.flags.values()].map(copyFlag),
      environmentFlags: [...this.overrides.values()].map(copyOverride),
      segments: [...this.segments.values()].map(copySegment),
    };
  }

  // Environments

  async createEnvironment(input: EnvironmentInput, context?: WriteContext): Promise<Environment> {
    return this.atomically(() => this.createEnvironmentIn(input, resolveWriteContext(context)));
  }

  async getEnvironment(slug: string): Promise<Environment | null> {
    const env = this.findEnvironment(slug);
    return env ? copyEnvironment(env) : null;
  }

  async getEnvironmentById(id: string): Promise<Environment | null> {
    const env = this.environments.get(id);
    return env ? copyEnvironment(env) : null;
  }

  async listEnvironments(): Promise<Environment[]> {
    return [...this.environments.values()].map(copyEnvironment);
  }

  async updateEnvironment(update: EnvironmentUpdate, context?: WriteContext): Promise<Environment> {
    return this.atomically(() => this.updateEnvironmentIn(update, resolveWriteContext(context)));
  }

  async deleteEnvironment(slug: string, context?: WriteContext): Promise<boolean> {
    return this.atomically(() => this.deleteEnvironmentIn(slug, resolveWriteContext(context)));
  }

  async cloneEnvironment(source: string, input: EnvironmentInput, context?: WriteContext): Promise<EnvironmentClone> {
    return this.atomically(() => {
      const ctx = resolveWriteContext(context);
      const from = this.findEnvironment(source);
      if (!from) throw new NotFoundError('environment', String(source));
      const env = this.insertEnvironment(input);
      const copies: EnvironmentFlag[] = [];
      const inputs = clonedOverrideInputs([...this.environments.values()], [...this.flags.values()], [...this.overrides.values()], from, env);
      for (const { input: copyInput, flag } of inputs) {
        const copy = buildEnvironmentFlag(copyInput, flag.type);
        this.put(this.overrides, copy.id, copyOverride(copy));
        this.change({ kind: 'environmentFlag', op: 'upsert', environmentFlag: copyOverride(copy) });
        copies.push(copy);
      }
      this.record(environmentClonedEvent(ctx, env, this.parentSlug(env), from.slug, copies, (c) => this.flags.get(c.flagId)!.key));
      return { environment: copyEnvironment(env), overrides: copies.map(copyOverride) };
    });
  }

  // Flags

  async createFlag(input: FlagInput, context?: WriteContext): Promise<Flag> {
    return this.atomically(() => this.createFlagIn(input, resolveWriteContext(context)));
  }

  async getFlag(key: string): Promise<Flag | null> {
    const flag = this.findFlag(key);
    return flag ? copyFlag(flag) : null;
  }

  async listFlags(filter?: FlagFilter): Promise<Flag[]> {
    return [...this.flags.values()]
      .filter((f) => flagMatches(f, filter))
      .sort((a, b) => a.key.localeCompare(b.key))
      .map(copyFlag);
  }

  async updateFlag(update: FlagUpdate, context?: WriteContext): Promise<Flag> {
    return this.atomically(() => this.updateFlagIn(update, resolveWriteContext(context)));
  }

  async deleteFlag(key: string, context?: WriteContext): Promise<boolean> {
    return this.atomically(() => this.deleteFlagIn(key, resolveWriteContext(context)));
  }

  // Environment flags (overrides)

  async createEnvironmentFlag(input: EnvironmentFlagInput, context?: WriteContext): Promise<EnvironmentFlag> {
    return this.atomically(() => this.createEnvironmentFlagIn(input, resolveWriteContext(context)));
  }

  async getEnvironmentFlag(ref: EnvironmentFlagRef): Promise<EnvironmentFlag | null> {
    const o = this.findOverride(ref.envId, ref.flagId);
    return o ? copyOverride(o) : null;
  }

  async listEnvironmentFlags(filter?: Partial<EnvironmentFlagRef>): Promise<EnvironmentFlag[]> {
    return [...this.overrides.values()]
      .filter((o) => (filter?.envId === undefined || o.environmentId === filter.envId) && (filter?.flagId === undefined || o.flagId === filter.flagId))
      .map(copyOverride);
  }

  async updateEnvironmentFlag(update: EnvironmentFlagUpdate, context?: WriteContext): Promise<EnvironmentFlag> {
    return this.atomically(() => this.updateEnvironmentFlagIn(update, resolveWriteContext(context)));
  }

  async deleteEnvironmentFlag(ref: EnvironmentFlagRef, context?: WriteContext): Promise<boolean> {
    return this.atomically(() => this.deleteEnvironmentFlagIn(ref, resolveWriteContext(context)));
  }

  // Segments

  async createSegment(input: SegmentInput, context?: WriteContext): Promise<Segment> {
    return this.atomically(() => this.createSegmentIn(input, resolveWriteContext(context)));
  }

  async getSegment(key: string): Promise<Segment | null> {
    const s = this.findSegment(key);
    return s ? copySegment(s) : null;
  }

  async listSegments(): Promise<Segment[]> {
    return [...this.segments.values()].map(copySegment);
  }

  async updateSegment(update: SegmentUpdate, context?: WriteContext): Promise<Segment> {
    return this.atomically(() => this.updateSegmentIn(update, resolveWriteContext(context)));
  }

  async deleteSegment(key: string, context?: WriteContext): Promise<boolean> {
    return this.atomically(() => this.deleteSegmentIn(key, resolveWriteContext(context)));
  }

  // Batches and the audit log

  async writeAll(writes: StorageWrite[], context?: WriteContext): Promise<StorageWriteResult[]> {
    return this.atomically(() => {
      assertWrites(writes);
      resolveWriteContext(context);
      return writes.map((w) => this.applyWrite(w, resolveWriteContext(mergeWriteContexts(context, w.context))));
    });
  }

  async listEvents(filter?: AuditEventFilter): Promise<AuditEvent[]> {
    const f = resolveEventFilter(filter);
    const ordered = f.order === 'asc' ? this.events : [...this.events].reverse();
    const out: AuditEvent[] = [];
    for (const e of ordered) {
      if (!eventMatches(e, f)) continue;
      out.push(copyEvent(e));
      if (out.length >= f.limit) break;
    }
    return out;
  }

  // API tokens and client keys (secret records: one implementation, two kinds)

  async createApiToken(input: ApiTokenInput, context?: WriteContext): Promise<ApiToken> {
    return this.createSecretRecord(API_TOKEN_RECORDS, this.tokens, (ctx) => buildApiToken(input, ctx), context);
  }

  async getApiToken(id: string): Promise<ApiToken | null> {
    return this.getSecretRecord(API_TOKEN_RECORDS, this.tokens, id);
  }

  async findApiTokenBySecretHash(secretHash: string): Promise<ApiToken | null> {
    return this.findSecretRecord(API_TOKEN_RECORDS, this.tokens, secretHash);
  }

  async listApiTokens(): Promise<ApiToken[]> {
    return [...this.tokens.values()].map(copyApiToken);
  }

  async revokeApiToken(id: string, context?: WriteContext): Promise<ApiToken> {
    return this.revokeSecretRecord(API_TOKEN_RECORDS, this.tokens, id, context);
  }

  async createClientKey(input: ClientKeyInput, context?: WriteContext): Promise<ClientKey> {
    return this.createSecretRecord(CLIENT_KEY_RECORDS, this.clientKeys, (ctx) => buildClientKey(input, ctx), context);
  }

  async getClientKey(id: string): Promise<ClientKey | null> {
    return this.getSecretRecord(CLIENT_KEY_RECORDS, this.clientKeys, id);
  }

  async findClientKeyBySecretHash(secretHash: string): Promise<ClientKey | null> {
    return this.findSecretRecord(CLIENT_KEY_RECORDS, this.clientKeys, secretHash);
  }

  async listClientKeys(): Promise<ClientKey[]> {
    return [...this.clientKeys.values()].map(copyClientKey);
  }

  async revokeClientKey(id: string, context?: WriteContext): Promise<ClientKey> {
    return this.revokeSecretRecord(CLIENT_KEY_RECORDS, this.clientKeys, id, context);
  }

  private async createSecretRecord<T extends SecretRecord>(kind: SecretRecordKind<T>, map: Map<string, T>, build: (ctx: ResolvedWriteContext) => T, context?: WriteContext): Promise<T> {
    return this.atomically(() => {
      const ctx = resolveWriteContext(context);
      const record = build(ctx);
      if (map.has(record.id)) throw new AdminRecordAlreadyExistsError(kind.entity, record.id);
      if ([...map.values()].some((r) => r.secretHash === record.secretHash)) throw new AdminRecordAlreadyExistsError(kind.entity, record.secretHint);
      this.put(map, record.id, kind.copy(record));
      this.record(auditEvent(kind.createdEvent, ctx, kind.subject(null, record)));
      return kind.copy(record);
    });
  }

  private async getSecretRecord<T extends SecretRecord>(kind: SecretRecordKind<T>, map: Map<string, T>, id: string): Promise<T | null> {
    const r = map.get(id);
    return r ? kind.copy(r) : null;
  }

  private async findSecretRecord<T extends SecretRecord>(kind: SecretRecordKind<T>, map: Map<string, T>, secretHash: string): Promise<T | null> {
    for (const r of map.values()) if (r.secretHash === secretHash) return kind.copy(r);
    return null;
  }

  private async revokeSecretRecord<T extends SecretRecord>(kind: SecretRecordKind<T>, map: Map<string, T>, id: string, context?: WriteContext): Promise<T> {
    return this.atomically(() => {
      const ctx = resolveWriteContext(context);
      const record = map.get(id);
      if (!record) throw new AdminRecordNotFoundError(kind.entity, String(id));
      if (record.revokedAt) return kind.copy(record);
      const next = kind.revoked(record, ctx);
      this.put(map, id, kind.copy(next));
      this.record(auditEvent(kind.revokedEvent, ctx, kind.subject(record, next)));
      return kind.copy(next);
    });
  }

  // Change requests

  async createChangeRequest(input: ChangeRequestInput, context?: WriteContext): Promise<ChangeRequest> {
    return this.atomically(() => {
      const ctx = resolveWriteContext(context);
      const request = buildChangeRequest(input, ctx);
      if (this.changeRequests.has(request.id)) throw new AdminRecordAlreadyExistsError('change request', request.id);
      this.put(this.changeRequests, request.id, copyChangeRequest(request));
      this.record(auditEvent('change-request-created', ctx, changeRequestSubject(request, null)));
      return copyChangeRequest(request);
    });
  }

  async getChangeRequest(id: string): Promise<ChangeRequest | null> {
    const c = this.changeRequests.get(id);
    return c ? copyChangeRequest(c) : null;
  }

  async listChangeRequests(filter?: ChangeRequestFilter): Promise<ChangeRequest[]> {
    assertChangeRequestFilter(filter);
    return [...this.changeRequests.values()]
      .filter((c) => changeRequestMatches(c, filter))
      .reverse()
      .map(copyChangeRequest);
  }

  async approveChangeRequest(id: string, decision: ChangeRequestDecision): Promise<ChangeRequestApproval> {
    return this.atomically(() => {
      const d = resolveDecision(decision);
      const request = this.pendingRequest(id, d.version);
      const applied = { actor: request.createdBy, reason: request.reason, data: { changeRequestId: request.id, approvedBy: d.actor } };
      const results = request.writes.map((w) => this.applyWrite(w, resolveWriteContext(mergeWriteContexts(applied, w.context))));
      const next = decidedChangeRequest(request, 'applied', d);
      this.put(this.changeRequests, id, copyChangeRequest(next));
      this.record(auditEvent('change-request-approved', decisionContext(d), changeRequestSubject(next, request)));
      return { changeRequest: copyChangeRequest(next), results };
    });
  }

  async rejectChangeRequest(id: string, decision: ChangeRequestDecision): Promise<ChangeRequest> {
    return this.atomically(() => {
      const d = resolveDecision(decision);
      const request = this.pendingRequest(id, d.version);
      const next = decidedChangeRequest(request, 'rejected', d);
      this.put(this.changeRequests, id, copyChangeRequest(next));
      this.record(auditEvent('change-request-rejected', decisionContext(d), changeRequestSubject(next, request)));
      return copyChangeRequest(next);
    });
  }

  // Writes (run inside `atomically`)

  private applyWrite(w: StorageWrite, ctx: ResolvedWriteContext): StorageWriteResult {
    switch (w.op) {
      case 'createEnvironment':
        return this.createEnvironmentIn(w.input, ctx);
      case 'updateEnvironment':
        return this.updateEnvironmentIn(w.update, ctx);
      case 'deleteEnvironment':
        return this.deleteEnvironmentIn(w.slug, ctx);
      case 'createFlag':
        return this.createFlagIn(w.input, ctx);
      case 'updateFlag':
        return this.updateFlagIn(w.update, ctx);
      case 'deleteFlag':
        return this.deleteFlagIn(w.key, ctx);
      case 'createEnvironmentFlag':
        return this.createEnvironmentFlagIn(w.input, ctx);
      case 'updateEnvironmentFlag':
        return this.updateEnvironmentFlagIn(w.update, ctx);
      case 'deleteEnvironmentFlag':
        return this.deleteEnvironmentFlagIn(w.ref, ctx);
      case 'createSegment':
        return this.createSegmentIn(w.input, ctx);
      case 'updateSegment':
        return this.updateSegmentIn(w.update, ctx);
      case 'deleteSegment':
        return this.deleteSegmentIn(w.key, ctx);
    }
  }

  private insertEnvironment(input: EnvironmentInput): Environment {
    const env = buildEnvironment(input);
    if (this.findEnvironment(env.slug)) throw new AlreadyExistsError('environment', env.slug);
    if (this.environments.has(env.id)) throw new AlreadyExistsError('environment', env.id);
    assertEnvironmentParent([...this.environments.values()], env.slug, null, env.parentId);
    this.put(this.environments, env.id, copyEnvironment(env));
    this.change({ kind: 'environment', op: 'upsert', environment: copyEnvironment(env) });
    return env;
  }

  private createEnvironmentIn(input: EnvironmentInput, ctx: ResolvedWriteContext): Environment {
    const env = this.insertEnvironment(input);
    this.record(auditEvent(environmentEventType(null, env), ctx, { environment: env.slug, after: environmentState(env, this.parentSlug(env)) }));
    return copyEnvironment(env);
  }

  private updateEnvironmentIn(update: EnvironmentUpdate, ctx: ResolvedWriteContext): Environment {
    const existing = this.requireEnvironment(update);
    const next = mergeEnvironment(existing, update);
    if (unchangedEnvironment(existing, next)) return copyEnvironment(existing);
    if (next.slug !== existing.slug && this.findEnvironment(next.slug)) throw new AlreadyExistsError('environment', next.slug);
    if (next.parentId !== existing.parentId) {
      assertEnvironmentParent([...this.environments.values()], next.slug, next.id, next.parentId);
    }
    const before = environmentState(existing, this.parentSlug(existing));
    this.put(this.environments, next.id, copyEnvironment(next));
    this.change({ kind: 'environment', op: 'upsert', environment: copyEnvironment(next) });
    this.record(auditEvent(environmentEventType(existing, next), ctx, { environment: existing.slug, before, after: environmentState(next, this.parentSlug(next)) }));
    return copyEnvironment(next);
  }

  private deleteEnvironmentIn(slug: string, ctx: ResolvedWriteContext): boolean {
    const env = this.findEnvironment(slug);
    if (!env) return false;
    const children = [...this.environments.values()].filter((e) => e.parentId === env.id).map((e) => e.slug);
    if (children.length > 0) throw new EnvironmentInUseError(slug, children);
    let deleted = 0;
    for (const [id, o] of [...this.overrides]) {
      if (o.environmentId === env.id) {
        this.remove(this.overrides, id);
        deleted++;
      }
    }
    const before = environmentState(env, this.parentSlug(env));
    this.remove(this.environments, env.id);
    this.change({ kind: 'environment', op: 'delete', id: env.id, slug: env.slug });
    this.record(auditEvent(environmentEventType(env, null), ctx, { environment: env.slug, before, data: { deletedOverrides: deleted } }));
    return true;
  }

  private createFlagIn(input: FlagInput, ctx: ResolvedWriteContext): Flag {
    const flag = buildFlag(input);
    if (this.findFlag(flag.key)) throw new AlreadyExistsError('flag', flag.key);
    if (this.flags.has(flag.id)) throw new AlreadyExistsError('flag', flag.id);
    this.put(this.flags, flag.id, copyFlag(flag));
    this.change({ kind: 'flag', op: 'upsert', flag: copyFlag(flag) });
    this.record(auditEvent(flagEventType(null, flag), ctx, { flagKey: flag.key, after: flagState(flag) }));
    return copyFlag(flag);
  }

  private updateFlagIn(update: FlagUpdate, ctx: ResolvedWriteContext): Flag {
    const existing = 'id' in update && update.id !== undefined ? this.flags.get(update.id) : this.findFlag((update as { key: string }).key);
    if (!existing) throw new NotFoundError('flag', String('id' in update && update.id !== undefined ? update.id : (update as { key: string }).key));
    const next = mergeFlag(existing, update);
    if (unchangedFlag(existing, next)) return copyFlag(existing);
    if (next.key !== existing.key && this.findFlag(next.key)) throw new AlreadyExistsError('flag', next.key);
    this.put(this.flags, next.id, copyFlag(next));
    this.change({ kind: 'flag', op: 'upsert', flag: copyFlag(next) });
    this.record(auditEvent(flagEventType(existing, next), ctx, { flagKey: existing.key, before: flagState(existing), after: flagState(next) }));
    return copyFlag(next);
  }

  private deleteFlagIn(key: string, ctx: ResolvedWriteContext): boolean {
    const flag = this.findFlag(key);
    if (!flag) return false;
    let deleted = 0;
    for (const [id, o] of [...this.overrides]) {
      if (o.flagId === flag.id) {
        this.remove(this.overrides, id);
        deleted++;
      }
    }
    this.remove(this.flags, flag.id);
    this.change({ kind: 'flag', op: 'delete', id: flag.id, key: flag.key });
    this.record(auditEvent(flagEventType(flag, null), ctx, { flagKey: flag.key, before: flagState(flag), data: { deletedOverrides: deleted } }));
    return true;
  }

  private createEnvironmentFlagIn(input: EnvironmentFlagInput, ctx: ResolvedWriteContext): EnvironmentFlag {
    const env = this.environments.get(input.environmentId);
    if (!env) throw new NotFoundError('environment', input.environmentId);
    const flag = this.flags.get(input.flagId);
    if (!flag) throw new NotFoundError('flag', input.flagId);
    const override = buildEnvironmentFlag(input, flag.type);
    if (this.findOverride(env.id, flag.id)) throw new AlreadyExistsError('environment flag', `${flag.key}@${env.slug}`);
    if (this.overrides.has(override.id)) throw new AlreadyExistsError('environment flag', override.id);
    this.put(this.overrides, override.id, copyOverride(override));
    this.change({ kind: 'environmentFlag', op: 'upsert', environmentFlag: copyOverride(override) });
    this.record(auditEvent(overrideEventType(null, override), ctx, { flagKey: flag.key, environment: env.slug, after: overrideState(override) }));
    return copyOverride(override);
  }

  private updateEnvironmentFlagIn(update: EnvironmentFlagUpdate, ctx: ResolvedWriteContext): EnvironmentFlag {
    const existing =
      'id' in update && update.id !== undefined
        ? this.overrides.get(update.id)
        : this.findOverride((update as EnvironmentFlag).environmentId, (update as EnvironmentFlag).flagId);
    if (!existing) throw new NotFoundError('environment flag', 'id' in update && update.id ? update.id : `${(update as EnvironmentFlag).flagId}@${(update as EnvironmentFlag).environmentId}`);
    const flag = this.flags.get(existing.flagId)!;
    const next = mergeEnvironmentFlag(existing, update, flag.type);
    if (unchangedEnvironmentFlag(existing, next)) return copyOverride(existing);
    this.put(this.overrides, next.id, copyOverride(next));
    this.change({ kind: 'environmentFlag', op: 'upsert', environmentFlag: copyOverride(next) });
    const env = this.environments.get(existing.environmentId)!;
    this.record(
      auditEvent(overrideEventType(existing, next), ctx, { flagKey: flag.key, environment: env.slug, before: overrideState(existing), after: overrideState(next) }),
    );
    return copyOverride(next);
  }

  private deleteEnvironmentFlagIn(ref: EnvironmentFlagRef, ctx: ResolvedWriteContext): boolean {
    const o = this.findOverride(ref?.envId, ref?.flagId);
    if (!o) return false;
    this.remove(this.overrides, o.id);
    this.change({ kind: 'environmentFlag', op: 'delete', id: o.id, environmentId: o.environmentId, flagId: o.flagId });
    this.record(
      auditEvent(overrideEventType(o, null), ctx, {
        flagKey: this.flags.get(o.flagId)!.key,
        environment: this.environments.get(o.environmentId)!.slug,
        before: overrideState(o),
      }),
    );
    return true;
  }

  private createSegmentIn(input: SegmentInput, ctx: ResolvedWriteContext): Segment {
    const segment = buildSegment(input);
    if (this.findSegment(segment.key)) throw new AlreadyExistsError('segment', segment.key);
    if (this.segments.has(segment.id)) throw new AlreadyExistsError('segment', segment.id);
    if (segment.parentId && !this.segments.has(segment.parentId)) throw new NotFoundError('segment', segment.parentId);
    this.put(this.segments, segment.id, copySegment(segment));
    this.change({ kind: 'segment', op: 'upsert', segment: copySegment(segment) });
    this.record(auditEvent(segmentEventType(null, segment), ctx, { after: segmentState(segment), data: { segment: segment.key } }));
    return copySegment(segment);
  }

  private updateSegmentIn(update: SegmentUpdate, ctx: ResolvedWriteContext): Segment {
    const existing = 'id' in update && update.id !== undefined ? this.segments.get(update.id) : this.findSegment((update as Segment).key);
    if (!existing) throw new NotFoundError('segment', String((update as Segment).id ?? (update as Segment).key));
    const next = mergeSegment(existing, update);
    if (unchangedSegment(existing, next)) return copySegment(existing);
    if (next.key !== existing.key && this.findSegment(next.key)) throw new AlreadyExistsError('segment', next.key);
    if (next.parentId && !this.segments.has(next.parentId)) throw new NotFoundError('segment', next.parentId);
    this.put(this.segments, next.id, copySegment(next));
    this.change({ kind: 'segment', op: 'upsert', segment: copySegment(next) });
    this.record(auditEvent(segmentEventType(existing, next), ctx, { before: segmentState(existing), after: segmentState(next), data: { segment: existing.key } }));
    return copySegment(next);
  }

  private deleteSegmentIn(key: string, ctx: ResolvedWriteContext): boolean {
    const s = this.findSegment(key);
    if (!s) return false;
    this.remove(this.segments, s.id);
    this.change({ kind: 'segment', op: 'delete', id: s.id, key: s.key });
    this.record(auditEvent(segmentEventType(s, null), ctx, { before: segmentState(s), data: { segment: s.key } }));
    return true;
  }

  // Transactions

  /**
   * Runs `work` (synchronous: nothing else runs meanwhile) as one transaction: on success its events are
   * numbered and kept, then its changes and events are reported; on failure every change it made is
   * undone. Nested calls join the running transaction.
   */
  private atomically<T>(work: () => T): T {
    if (this.tx) return work();
    const tx: MemoryTx = { undo: [], changes: [], events: [] };
    this.tx = tx;
    let result: T;
    try {
      result = work();
    } catch (e) {
      for (const undo of tx.undo.reverse()) undo();
      throw e;
    } finally {
      this.tx = undefined;
    }
    const recorded = tx.events.map((e) => new AuditEvent({ ...e, id: this.nextEventId++ }));
    this.events.push(...recorded);
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
    // Every change is a commit of its own: revision `<epoch>:<count>`.
    for (const change of tx.changes) this.notifier.emit(change, { epoch: this.epoch, n: this.notifier.count + 1, part: 0, parts: 1 });
    for (const event of recorded) this.eventNotifier.emit(event);
    return result;
  }

  private put<V>(map: Map<string, V>, key: string, value: V): void {
    const had = map.has(key);
    const previous = map.get(key);
    this.tx!.undo.push(() => (had ? map.set(key, previous as V) : map.delete(key)));
    map.set(key, value);
  }

  private remove<V>(map: Map<string, V>, key: string): void {
    if (!map.has(key)) return;
    const previous = map.get(key) as V;
    this.tx!.undo.push(() => map.set(key, previous));
    map.delete(key);
  }

  private change(change: StorageChange): void {
    this.tx!.changes.push(change);
  }

  private record(event: AuditEventInput): void {
    this.tx!.events.push(event);
  }

  // Lookups

  private pendingRequest(id: string, version: number | undefined): ChangeRequest {
    const request = this.changeRequests.get(id);
    if (!request) throw new AdminRecordNotFoundError('change request', String(id));
    if (request.status !== 'pending') throw new ChangeRequestNotPendingError(id, request.status);
    assertVersion('change request', id, request.version, version);
    return request;
  }

  private parentSlug(env: Environment): string | null {
    return env.parentId ? (this.environments.get(env.parentId)?.slug ?? null) : null;
  }

  private findEnvironment(slug: string): Environment | undefined {
    for (const e of this.environments.values()) if (e.slug === slug) return e;
    return undefined;
  }

  private requireEnvironment(update: EnvironmentUpdate): Environment {
    const byId = 'id' in update && update.id !== undefined;
    const env = byId ? this.environments.get(update.id as string) : this.findEnvironment((update as Environment).slug);
    if (!env) throw new NotFoundError('environment', byId ? String(update.id) : (update as Environment).slug);
    return env;
  }

  private findFlag(key: string): Flag | undefined {
    for (const f of this.flags.values()) if (f.key === key) return f;
    return undefined;
  }

  private findOverride(envId: string, flagId: string): EnvironmentFlag | undefined {
    for (const o of this.overrides.values()) if (o.environmentId === envId && o.flagId === flagId) return o;
    return undefined;
  }

  private findSegment(key: string): Segment | undefined {
    for (const s of this.segments.values()) if (s.key === key) return s;
    return undefined;
  }
}
