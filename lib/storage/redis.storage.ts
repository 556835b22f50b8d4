import { randomUUID } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import { SnapshotData, StorageChangeListener } from '../core/changes';
import { assertEnvironmentParent } from '../core/environment-tree';
import { FlagSnapshot } from '../core/snapshot';
import { AlreadyExistsError, EnvironmentInUseError, FeatureFlagsError, FeatureFlagsValidationError, NotFoundError, StorageUnavailableError } from '../core/errors';
import { ApiToken, AuditEvent, ChangeRequest, ClientKey, Environment, EnvironmentFlag, Flag, FlagRule, Segment } from './records';
import { createRedisClient } from './redis/connect';
import type { RedisClient, RedisConnection } from './redis/redis-client';
import { TransactionalStorage } from './transactional-storage';
import {
  assertChangeRequestFilter,
  buildApiToken,
  buildChangeRequest,
  changeRequestMatches,
} from './admin-records';
import { API_TOKEN_RECORDS, buildClientKey, CLIENT_KEY_RECORDS, SecretRecord, SecretRecordKind } from './secret-records';
import {
  auditEvent,
  AuditEventInput,
  AuditEventNotifier,
  changeRequestSubject,
  copyChangeRequest,
  environmentClonedEvent,
  environmentEventType,
  environmentState,
  eventMatches,
  flagEventType,
  flagState,
  overrideEventType,
  overrideState,
  resolveEventFilter,
  resolveWriteContext,
  ResolvedWriteContext,
  segmentEventType,
  segmentState,
} from './audit';
import {
  AdminRecordAlreadyExistsError,
  AdminRecordNotFoundError,
  ApiTokenInput,
  ClientKeyInput,
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
  WriteContext,
} from './feature-flag-storage.interface';
import { copyEnvironment, copyFlag, copyOverride, copySegment, flagMatches } from './memory.storage';
import { effectiveState } from './redis/effective-state';
import { RedisKeys } from './redis/keys';
import { COMMIT_SCRIPT, READ_SCRIPT } from './redis/scripts';
import { RedisAccess, RedisTx } from './redis/transaction';
import {
  assertVersion,
  buildEnvironment,
  buildEnvironmentFlag,
  buildFlag,
  buildSegment,
  ChangeNotifier,
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

export { RedisKeys } from './redis/keys';

/** Options of RedisStorage. */
export interface RedisStorageOptions {
  /** Prefix of every key (the module option `redisPrefix`). Default `feature-flags:`. */
  prefix?: string;
  /**
   * Whether the storage owns the client: it then connects it in `init()` and quits it in `close()`.
   * Default: true for a client it creates from a URL or options, false for an ioredis client passed in.
   */
  ownsClient?: boolean;
  /** About how many audit events are kept, the oldest going first (0 keeps every event). Default 100,000. */
  maxEvents?: number;
}

/**
 * Settings of the clients the storage creates: fail fast while Redis is away (no offline queue, one
 * retry, no resending of a command whose reply was lost — a commit must not run twice — and no command
 * waiting more than 5 s for its reply), and keep reconnecting in the background. Options passed in
 * override them.
 */
const CLIENT_DEFAULTS: RedisOptions = {
  lazyConnect: true,
  connectTimeout: 2000,
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  commandTimeout: 5000,
  retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
};

/** The key layout this version writes (see RedisKeys). */
const LAYOUT = '2';

/** How many times a write runs when what it read keeps changing under it. */
const MAX_ATTEMPTS = 100;

/** Reply errors that mean the server cannot serve now (loading, failing over, busy…). */
const UNAVAILABLE_REPLY = /^(LOADING|MASTERDOWN|READONLY|BUSY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|MISCONF)\b/;

/** The client with the storage's scripts (`defineCommand`). */
interface ScriptedRedis extends Redis {
  featureFlagsCommit(program: string): Promise<[number, number, number[], string] | [number, number] | [number]>;
  featureFlagsRead(prefix: string, what: string, a: string, b: string): Promise<unknown>;
}

function isRedisClient(value: unknown): value is RedisClient {
  const v = value as Partial<Redis> | null;
  return typeof v === 'object' && v !== null && typeof v.defineCommand === 'function' && typeof v.sendCommand === 'function';
}

// Records are kept as JSON; dates as ISO strings.

function withDates(o: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  for (const f of fields) if (typeof o[f] === 'string') o[f] = new Date(o[f] as string);
  return o;
}

const RECORD_DATES = ['createdAt', 'updatedAt'];
const parse = (raw: string): Record<string, unknown> => JSON.parse(raw) as Record<string, unknown>;
const decodeEnvironment = (raw: string): Environment => new Environment(withDates(parse(raw), RECORD_DATES) as Partial<Environment>);
const decodeOverride = (raw: string): EnvironmentFlag => new EnvironmentFlag(withDates(parse(raw), RECORD_DATES) as Partial<EnvironmentFlag>);
const decodeSegment = (raw: string): Segment => new Segment(withDates(parse(raw), RECORD_DATES) as Partial<Segment>);
const decodeApiToken = (raw: string): ApiToken => new ApiToken(withDates(parse(raw), ['createdAt', 'expiresAt', 'revokedAt']) as Partial<ApiToken>);
const decodeClientKey = (raw: string): ClientKey => new ClientKey(withDates(parse(raw), ['createdAt', 'revokedAt']) as Partial<ClientKey>);

/** Where a kind of secret record lives in Redis, and the read-script names that reach it. */
interface RedisSecretStore<T extends SecretRecord> {
  kind: SecretRecordKind<T>;
  record: (id: string) => string;
  list: string;
  secrets: string;
  /** The read script's `by secret hash` and `list` names. */
  reads: [string, string];
  decode: (raw: string) => T;
}
const decodeChangeRequest = (raw: string): ChangeRequest =>
  new ChangeRequest(withDates(parse(raw), ['createdAt', 'decidedAt', 'updatedAt']) as Partial<ChangeRequest>);

function decodeFlag(raw: string): Flag {
  const o = withDates(parse(raw), RECORD_DATES) as Partial<Flag> & { rules?: Partial<FlagRule>[] };
  return new Flag({ ...o, rules: (o.rules ?? []).map((r) => new FlagRule(r)) });
}

function encodeEvent(e: AuditEventInput): string {
  return JSON.stringify({
    type: e.type,
    actor: e.actor,
    flagKey: e.flagKey,
    environment: e.environment,
    before: e.before,
    after: e.after,
    reason: e.reason,
    data: e.data,
    createdAt: e.createdAt,
  });
}

/** Stream entry `[id, [field, value…]]` → the event. */
function decodeEvent([entryId, fields]: [string, string[]]): AuditEvent {
  const json = fields[fields.indexOf('event') + 1];
  const e = withDates(parse(json), ['createdAt']);
  return new AuditEvent({ ...(e as Partial<AuditEvent>), id: Number(entryId.split('-')[1]) });
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** Creation order, ties broken by id (as the SQL backends list overrides). */
const byCreation = <T extends { createdAt: Date; id: string }>(a: T, b: T): number => a.createdAt.getTime() - b.createdAt.getTime() || compare(a.id, b.id);
/** Creation order, ties broken by slug (as the SQL backends list environments). */
const bySlug = (a: Environment, b: Environment): number => a.createdAt.getTime() - b.createdAt.getTime() || compare(a.slug, b.slug);
/** Creation order, ties broken by key (as the SQL backends list segments). */
const byKey = (a: Segment, b: Segment): number => a.createdAt.getTime() - b.createdAt.getTime() || compare(a.key, b.key);

function parentSlugIn(all: Environment[], env: Environment): string | null {
  return env.parentId ? (all.find((e) => e.id === env.parentId)?.slug ?? null) : null;
}

/** Waits for a connecting client to be ready (at most its connect timeout, or 10 s). */
function whenReady(c: Redis): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      clearTimeout(timer);
      c.off('ready', ready);
      c.off('close', closed);
      if (error) reject(error);
      else resolve();
    };
    const ready = (): void => done();
    const closed = (): void => done(new Error('Connection is closed.'));
    const timer = setTimeout(() => done(new Error('connect timed out')), c.options.connectTimeout ?? 10_000);
    c.once('ready', ready);
    c.once('close', closed);
  });
}

const pause = (attempt: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 50)));

/**
 * Stores flags, environments, overrides and segments in Redis (ioredis), under a key prefix, with the
 * seed's layout: `<prefix>flags:<environment>:<flag>` holds an environment's override of a flag (see
 * `RedisKeys` for every key). For apps that run many instances and already run Redis; the module then also
 * carries change notices over Redis pub/sub.
 *
 * Every write is one atomic Lua script (optimistic concurrency): the write reads what it needs, decides
 * with the same record builders and checks as every other backend (validation, versions, uniqueness,
 * parents and cycles), and commits its writes, its audit event and the revision bump in one script that
 * first checks that nothing it read has changed since. If something did, the write runs again on the new
 * data: an update carrying a stale `version` is then refused with VersionConflictError, one without a
 * version applies on top of the concurrent writer's change. Changes and events are reported after the
 * commit. A single Redis server (or a primary with replicas) is required, not Redis Cluster.
 *
 * @example
 * const storage = new RedisStorage('redis://127.0.0.1:6379/0', { prefix: 'my-app:flags:' });
 * await storage.init(); // connects and pings
 */
export class RedisStorage extends TransactionalStorage<RedisTx> implements FeatureFlagStorage, FeatureFlagAdminStorage {
  /** The key layout. */
  readonly keys: RedisKeys;
  private readonly client: ScriptedRedis;
  private readonly ownsClient: boolean;
  private readonly maxEvents: number;
  private readonly notifier = new ChangeNotifier();
  private readonly eventNotifier = new AuditEventNotifier();
  private readonly access: RedisAccess = { run: (work) => this.run(work) };
  private queue: Promise<unknown> = Promise.resolve();
  private lastError: string | undefined;
  /** Commands awaiting their reply: failed at once when the connection drops (ioredis would keep them). */
  private readonly inFlight = new Set<(error: StorageUnavailableError) => void>();
  private readonly onClose = (): void => {
    const error = new StorageUnavailableError(`The connection to Redis was lost${this.lastError ? ` (${this.lastError})` : ''}.`);
    for (const fail of [...this.inFlight]) fail(error);
  };

  /**
   * @param connection a `redis://` URL or ioredis options (the storage creates and owns a client), or an
   *   ioredis client (the storage uses it and leaves it open unless `ownsClient`).
   */
  constructor(connection: RedisConnection | RedisClient, options: RedisStorageOptions = {}) {
    super();
    const prefix = options.prefix ?? 'feature-flags:';
    if (typeof prefix !== 'string') throw new FeatureFlagsValidationError('prefix', 'must be a string');
    const maxEvents = options.maxEvents ?? 100_000;
    if (!Number.isInteger(maxEvents) || maxEvents < 0) throw new FeatureFlagsValidationError('maxEvents', 'must be a whole number (0 keeps every event)');
    this.keys = new RedisKeys(prefix);
    this.maxEvents = maxEvents;
    let client: Redis;
    if (isRedisClient(connection)) {
      client = connection as Redis;
      this.ownsClient = options.ownsClient ?? false;
    } else {
      client =
        typeof connection === 'string' ? createRedisClient(connection, CLIENT_DEFAULTS) : createRedisClient({ ...CLIENT_DEFAULTS, ...connection });
      this.ownsClient = options.ownsClient ?? true;
      // Errors surface in the calls that fail; the event only keeps the last one for their message.
      client.on('error', (e: Error) => void (this.lastError = e.message));
      client.on('ready', () => void (this.lastError = undefined));
    }
    if (client.options?.keyPrefix) {
      // Scripts name their keys in arguments, which ioredis does not prefix: the prefix option does it all.
      if (this.ownsClient) client.disconnect();
      throw new FeatureFlagsValidationError('keyPrefix', 'is not supported by RedisStorage: use its "prefix" option (the module option "redisPrefix") instead');
    }
    client.on('close', this.onClose);
    client.defineCommand('featureFlagsCommit', { numberOfKeys: 0, lua: COMMIT_SCRIPT });
    client.defineCommand('featureFlagsRead', { numberOfKeys: 0, lua: READ_SCRIPT });
    this.client = client as ScriptedRedis;
  }

  /** Connects (an owned client) and pings Redis. @throws StorageUnavailableError when Redis cannot be reached. */
  async init(): Promise<void> {
    const c = this.client;
    if (!c.listeners('close').includes(this.onClose)) c.on('close', this.onClose);
    try {
      if (c.status === 'wait' || (c.status === 'end' && this.ownsClient)) await c.connect();
      else if (c.status === 'connecting' || c.status === 'connect') await whenReady(c);
      await c.ping();
    } catch (e) {
      throw new StorageUnavailableError(`Cannot connect to Redis for the feature flags: ${this.describe(e)}`, e);
    }
    await this.upgradeLayout();
  }

  /**
   * Brings a store written by an earlier version to the current key layout, once: its overrides move from
   * `flags:<environment>:<flag>` to `override:<environment>:<flag>`, and `flags:` keys get the effective
   * states. One atomic commit (it moves no revision: nothing served changes).
   */
  private async upgradeLayout(): Promise<void> {
    if ((await this.run((c) => c.get(this.keys.layout))) === LAYOUT) return;
    await this.write(async (tx) => {
      if ((await tx.get(this.keys.layout)) === LAYOUT) return;
      const envs = await this.allEnvironments(tx);
      const slugOf = new Map(envs.map((e) => [e.id, e.slug]));
      const keyOf = await tx.hgetall(this.keys.flagIndex);
      for (const pair of (await tx.hgetall(this.keys.overrideIndex)).values()) {
        const [envId, flagId] = JSON.parse(pair) as [string, string];
        const slug = slugOf.get(envId);
        const key = keyOf.get(flagId);
        if (slug === undefined || key === undefined || (await tx.get(this.keys.override(slug, key))) !== null) continue;
        const old = await tx.get(this.keys.effective(slug, key));
        if (old !== null && 'environmentId' in (JSON.parse(old) as object)) tx.set(this.keys.override(slug, key), old);
      }
      const { flags, overrides } = await this.allFlagsAndOverrides(tx, envs);
      const snapshot = new FlagSnapshot({ environments: envs, flags, environmentFlags: overrides, segments: [] });
      for (const env of envs) for (const flag of flags) tx.set(this.keys.effective(env.slug, flag.key), JSON.stringify(effectiveState(snapshot.resolve(flag, env.slug))));
      tx.set(this.keys.layout, LAYOUT);
    });
  }

  /** Waits for running writes, then quits the client if the storage owns it. */
  async close(): Promise<void> {
    await this.queue;
    this.client.off('close', this.onClose);
    if (!this.ownsClient || this.client.status === 'end') return;
    if (this.client.status !== 'ready') {
      this.client.disconnect();
      return;
    }
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  subscribe(listener: StorageChangeListener): () => void {
    return this.notifier.subscribe(listener);
  }

  subscribeEvents(listener: AuditEventListener): () => void {
    return this.eventNotifier.subscribe(listener);
  }

  /** `<epoch>:<revision>`: the revision counter every write increments, and the store's epoch (new after a flush). */
  async revision(): Promise<string> {
    const [epoch, revision] = await this.run((c) => c.mget(this.keys.epoch, this.keys.revision));
    return `${epoch ?? ''}:${revision ?? '0'}`;
  }

  async loadSnapshot(): Promise<SnapshotData> {
    const [environments, flags, overrides, segments] = (await this.read('snapshot')) as string[][];
    return {
      environments: environments.map(decodeEnvironment).sort(bySlug),
      flags: flags.map(decodeFlag).sort((a, b) => a.key.localeCompare(b.key)),
      environmentFlags: overrides.map(decodeOverride).sort(byCreation),
      segments: segments.map(decodeSegment).sort(byKey),
    };
  }

  // Environments

  async getEnvironment(slug: string): Promise<Environment | null> {
    if (typeof slug !== 'string') return null;
    const raw = await this.run((c) => c.get(this.keys.environment(slug)));
    return raw ? decodeEnvironment(raw) : null;
  }

  async getEnvironmentById(id: string): Promise<Environment | null> {
    if (typeof id !== 'string') return null;
    const raw = (await this.read('environment-by-id', id)) as string | null;
    return raw ? decodeEnvironment(raw) : null;
  }

  async listEnvironments(): Promise<Environment[]> {
    return ((await this.read('environments')) as string[]).map(decodeEnvironment).sort(bySlug);
  }

  async cloneEnvironment(source: string, input: EnvironmentInput, context?: WriteContext): Promise<EnvironmentClone> {
    return this.write(async (tx) => {
      const ctx = resolveWriteContext(context);
      const env = buildEnvironment(input);
      const all = await this.allEnvironments(tx);
      const from = all.find((e) => e.slug === source);
      if (!from) throw new NotFoundError('environment', String(source));
      this.insertEnvironment(tx, all, env);
      // The clone serves what its source serves: every flag's resolved fields, wherever it is re-parented.
      const { flags, overrides } = await this.allFlagsAndOverrides(tx, all);
      const inputs = clonedOverrideInputs(all, flags, overrides.sort(byCreation), from, env);
      const sources = inputs.map(({ flag }) => ({ flag }));
      const copies = inputs.map(({ input: copyInput, flag }) => buildEnvironmentFlag(copyInput, flag.type));
      copies.forEach((copy, i) => {
        this.putOverride(tx, copy, env.slug, sources[i].flag.key, true);
        tx.change({ kind: 'environmentFlag', op: 'upsert', environmentFlag: copyOverride(copy) });
      });
      tx.audit(environmentClonedEvent(ctx, env, parentSlugIn(all, env), from.slug, copies, (_c, i) => sources[i].flag.key));
      return { environment: copyEnvironment(env), overrides: copies.map(copyOverride) };
    });
  }

  // Flags

  async getFlag(key: string): Promise<Flag | null> {
    if (typeof key !== 'string') return null;
    const raw = await this.run((c) => c.get(this.keys.flag(key)));
    return raw ? decodeFlag(raw) : null;
  }

  async listFlags(filter?: FlagFilter): Promise<Flag[]> {
    return ((await this.read('flags')) as string[])
      .map(decodeFlag)
      .filter((f) => flagMatches(f, filter))
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  async deleteFlag(key: string, context?: WriteContext): Promise<boolean> {
    return this.write((tx) => this.deleteFlagIn(tx, key, resolveWriteContext(context)));
  }

  // Environment flags (overrides)

  async getEnvironmentFlag(ref: EnvironmentFlagRef): Promise<EnvironmentFlag | null> {
    if (typeof ref?.envId !== 'string' || typeof ref.flagId !== 'string') return null;
    const raw = (await this.read('override', ref.envId, ref.flagId)) as string | null;
    return raw ? decodeOverride(raw) : null;
  }

  async listEnvironmentFlags(filter?: Partial<EnvironmentFlagRef>): Promise<EnvironmentFlag[]> {
    const envId = filter?.envId;
    const flagId = filter?.flagId;
    if ((envId !== undefined && typeof envId !== 'string') || (flagId !== undefined && typeof flagId !== 'string')) return [];
    return ((await this.read('overrides', envId ?? '', flagId ?? '')) as string[]).map(decodeOverride).sort(byCreation);
  }

  async deleteEnvironmentFlag(ref: EnvironmentFlagRef, context?: WriteContext): Promise<boolean> {
    return this.write((tx) => this.deleteEnvironmentFlagIn(tx, ref, resolveWriteContext(context)));
  }

  // Segments

  async getSegment(key: string): Promise<Segment | null> {
    if (typeof key !== 'string') return null;
    const raw = await this.run((c) => c.get(this.keys.segment(key)));
    return raw ? decodeSegment(raw) : null;
  }

  async listSegments(): Promise<Segment[]> {
    return ((await this.read('segments')) as string[]).map(decodeSegment).sort(byKey);
  }

  async deleteSegment(key: string, context?: WriteContext): Promise<boolean> {
    return this.write((tx) => this.deleteSegmentIn(tx, key, resolveWriteContext(context)));
  }

  // Batches and the audit log

  /** Reads the stream in pages from the right end, filtering as it goes. */
  async listEvents(filter?: AuditEventFilter): Promise<AuditEvent[]> {
    const f = resolveEventFilter(filter);
    if (f.types !== undefined && f.types.length === 0) return [];
    if (f.beforeId !== undefined && f.beforeId <= 1) return [];
    const page = Math.max(f.limit, 200);
    const out: AuditEvent[] = [];
    let low = f.afterId !== undefined ? f.afterId + 1 : 1;
    let high = f.beforeId !== undefined ? f.beforeId - 1 : Number.MAX_SAFE_INTEGER;
    while (low <= high && out.length < f.limit) {
      const entries = (await this.run((c) =>
        f.order === 'asc'
          ? c.xrange(this.keys.events, `0-${low}`, high === Number.MAX_SAFE_INTEGER ? '+' : `0-${high}`, 'COUNT', page)
          : c.xrevrange(this.keys.events, high === Number.MAX_SAFE_INTEGER ? '+' : `0-${high}`, `0-${low}`, 'COUNT', page),
      )) as [string, string[]][];
      for (const entry of entries) {
        const event = decodeEvent(entry);
        if (eventMatches(event, f)) out.push(event);
        if (out.length >= f.limit) break;
      }
      if (entries.length < page) break;
      const last = Number(entries[entries.length - 1][0].split('-')[1]);
      if (f.order === 'asc') low = last + 1;
      else high = last - 1;
    }
    return out;
  }

  // API tokens and client keys (secret records: one implementation, two kinds)

  async createApiToken(input: ApiTokenInput, context?: WriteContext): Promise<ApiToken> {
    return this.createSecretRecord(this.apiTokenStore, (ctx) => buildApiToken(input, ctx), context);
  }

  async getApiToken(id: string): Promise<ApiToken | null> {
    return this.getSecretRecord(this.apiTokenStore, id);
  }

  async findApiTokenBySecretHash(secretHash: string): Promise<ApiToken | null> {
    return this.findSecretRecord(this.apiTokenStore, secretHash);
  }

  async listApiTokens(): Promise<ApiToken[]> {
    return this.listSecretRecords(this.apiTokenStore);
  }

  async revokeApiToken(id: string, context?: WriteContext): Promise<ApiToken> {
    return this.revokeSecretRecord(this.apiTokenStore, id, context);
  }

  async createClientKey(input: ClientKeyInput, context?: WriteContext): Promise<ClientKey> {
    return this.createSecretRecord(this.clientKeyStore, (ctx) => buildClientKey(input, ctx), context);
  }

  async getClientKey(id: string): Promise<ClientKey | null> {
    return this.getSecretRecord(this.clientKeyStore, id);
  }

  async findClientKeyBySecretHash(secretHash: string): Promise<ClientKey | null> {
    return this.findSecretRecord(this.clientKeyStore, secretHash);
  }

  async listClientKeys(): Promise<ClientKey[]> {
    return this.listSecretRecords(this.clientKeyStore);
  }

  async revokeClientKey(id: string, context?: WriteContext): Promise<ClientKey> {
    return this.revokeSecretRecord(this.clientKeyStore, id, context);
  }

  private get apiTokenStore(): RedisSecretStore<ApiToken> {
    const keys = this.keys;
    return { kind: API_TOKEN_RECORDS, record: (id) => keys.apiToken(id), list: keys.apiTokens, secrets: keys.apiTokenSecrets, reads: ['api-token-by-secret', 'api-tokens'], decode: decodeApiToken };
  }

  private get clientKeyStore(): RedisSecretStore<ClientKey> {
    const keys = this.keys;
    return { kind: CLIENT_KEY_RECORDS, record: (id) => keys.clientKey(id), list: keys.clientKeys, secrets: keys.clientKeySecrets, reads: ['client-key-by-secret', 'client-keys'], decode: decodeClientKey };
  }

  private async createSecretRecord<T extends SecretRecord>(store: RedisSecretStore<T>, build: (ctx: ResolvedWriteContext) => T, context?: WriteContext): Promise<T> {
    const ctx = resolveWriteContext(context);
    const record = build(ctx);
    const { kind } = store;
    return this.write(async (tx) => {
      if ((await tx.get(store.record(record.id))) !== null) throw new AdminRecordAlreadyExistsError(kind.entity, record.id);
      if ((await tx.hget(store.secrets, record.secretHash)) !== null) throw new AdminRecordAlreadyExistsError(kind.entity, record.secretHint);
      tx.set(store.record(record.id), JSON.stringify(record));
      tx.hset(store.secrets, record.secretHash, record.id);
      tx.rpush(store.list, record.id);
      tx.audit(auditEvent(kind.createdEvent, ctx, kind.subject(null, record)));
      return kind.copy(record);
    });
  }

  private async getSecretRecord<T extends SecretRecord>(store: RedisSecretStore<T>, id: string): Promise<T | null> {
    if (typeof id !== 'string') return null;
    const raw = await this.run((c) => c.get(store.record(id)));
    return raw ? store.decode(raw) : null;
  }

  private async findSecretRecord<T extends SecretRecord>(store: RedisSecretStore<T>, secretHash: string): Promise<T | null> {
    if (typeof secretHash !== 'string') return null;
    const raw = (await this.read(store.reads[0], secretHash)) as string | null;
    return raw ? store.decode(raw) : null;
  }

  private async listSecretRecords<T extends SecretRecord>(store: RedisSecretStore<T>): Promise<T[]> {
    return ((await this.read(store.reads[1])) as string[]).map(store.decode);
  }

  private async revokeSecretRecord<T extends SecretRecord>(store: RedisSecretStore<T>, id: string, context?: WriteContext): Promise<T> {
    const ctx = resolveWriteContext(context);
    const { kind } = store;
    return this.write(async (tx) => {
      const raw = typeof id === 'string' ? await tx.get(store.record(id)) : null;
      if (!raw) throw new AdminRecordNotFoundError(kind.entity, String(id));
      const record = store.decode(raw);
      if (record.revokedAt) return record;
      const next = kind.revoked(record, ctx);
      tx.set(store.record(id), JSON.stringify(next));
      tx.audit(auditEvent(kind.revokedEvent, ctx, kind.subject(record, next)));
      return kind.copy(next);
    });
  }

  // Change requests

  async createChangeRequest(input: ChangeRequestInput, context?: WriteContext): Promise<ChangeRequest> {
    const ctx = resolveWriteContext(context);
    const request = buildChangeRequest(input, ctx);
    return this.write(async (tx) => {
      if ((await tx.get(this.keys.changeRequest(request.id))) !== null) throw new AdminRecordAlreadyExistsError('change request', request.id);
      tx.set(this.keys.changeRequest(request.id), JSON.stringify(request));
      tx.rpush(this.keys.changeRequests, request.id);
      tx.audit(auditEvent('change-request-created', ctx, changeRequestSubject(request, null)));
      return copyChangeRequest(request);
    });
  }

  async getChangeRequest(id: string): Promise<ChangeRequest | null> {
    if (typeof id !== 'string') return null;
    const raw = await this.run((c) => c.get(this.keys.changeRequest(id)));
    return raw ? decodeChangeRequest(raw) : null;
  }

  async listChangeRequests(filter?: ChangeRequestFilter): Promise<ChangeRequest[]> {
    assertChangeRequestFilter(filter);
    return ((await this.read('change-requests')) as string[])
      .map(decodeChangeRequest)
      .filter((c) => changeRequestMatches(c, filter))
      .reverse();
  }

  // Writes, inside a transaction (`write`): each records its change and its audit event.

  protected saveChangeRequest(tx: RedisTx, _pending: ChangeRequest, decided: ChangeRequest): void {
    tx.set(this.keys.changeRequest(decided.id), JSON.stringify(decided));
  }

  /** Checks and writes a new environment (every environment read in `all`), reporting the change but no event. */
  private insertEnvironment(tx: RedisTx, all: Environment[], env: Environment): void {
    if (all.some((e) => e.slug === env.slug)) throw new AlreadyExistsError('environment', env.slug);
    if (all.some((e) => e.id === env.id)) throw new AlreadyExistsError('environment', env.id);
    assertEnvironmentParent(all, env.slug, null, env.parentId);
    this.putEnvironment(tx, env);
    all.push(env);
    tx.change({ kind: 'environment', op: 'upsert', environment: copyEnvironment(env) });
  }

  protected async createEnvironmentIn(tx: RedisTx, input: EnvironmentInput, ctx: ResolvedWriteContext): Promise<Environment> {
    const env = buildEnvironment(input);
    const all = await this.allEnvironments(tx);
    this.insertEnvironment(tx, all, env);
    tx.audit(auditEvent(environmentEventType(null, env), ctx, { environment: env.slug, after: environmentState(env, parentSlugIn(all, env)) }));
    return copyEnvironment(env);
  }

  protected async updateEnvironmentIn(tx: RedisTx, update: EnvironmentUpdate, ctx: ResolvedWriteContext): Promise<Environment> {
    const all = await this.allEnvironments(tx);
    const byId = 'id' in update && update.id !== undefined;
    const existing = byId ? all.find((e) => e.id === update.id) : all.find((e) => e.slug === (update as Environment).slug);
    if (!existing) throw new NotFoundError('environment', byId ? String(update.id) : (update as Environment).slug);
    const next = mergeEnvironment(existing, update);
    if (unchangedEnvironment(existing, next)) return copyEnvironment(existing);
    if (next.slug !== existing.slug && all.some((e) => e.slug === next.slug)) throw new AlreadyExistsError('environment', next.slug);
    if (next.parentId !== existing.parentId) assertEnvironmentParent(all, next.slug, next.id, next.parentId);
    if (next.slug !== existing.slug) {
      // The environment's overrides move with it: flags:<old slug>:<flag> → flags:<new slug>:<flag>.
      for (const flagId of await tx.smembers(this.keys.environmentOverrides(existing.id))) {
        const key = await tx.hget(this.keys.flagIndex, flagId);
        if (key === null) continue;
        await this.move(tx, this.keys.override(existing.slug, key), this.keys.override(next.slug, key));
      }
      for (const key of (await tx.hgetall(this.keys.flagIndex)).values()) tx.del(this.keys.effective(existing.slug, key));
      tx.del(this.keys.environment(existing.slug));
    }
    this.putEnvironment(tx, next);
    tx.change({ kind: 'environment', op: 'upsert', environment: copyEnvironment(next) });
    const after = all.map((e) => (e.id === next.id ? next : e));
    tx.audit(
      auditEvent(environmentEventType(existing, next), ctx, {
        environment: existing.slug,
        before: environmentState(existing, parentSlugIn(all, existing)),
        after: environmentState(next, parentSlugIn(after, next)),
      }),
    );
    return copyEnvironment(next);
  }

  protected async deleteEnvironmentIn(tx: RedisTx, slug: string, ctx: ResolvedWriteContext): Promise<boolean> {
    if (typeof slug !== 'string') return false;
    const all = await this.allEnvironments(tx);
    const env = all.find((e) => e.slug === slug);
    if (!env) return false;
    const children = all.filter((e) => e.parentId === env.id).map((e) => e.slug);
    if (children.length > 0) throw new EnvironmentInUseError(slug, children);
    const overrides = await this.overridesOfEnvironment(tx, env);
    for (const { override, flag } of overrides) this.removeOverride(tx, override, env.slug, flag.key);
    tx.del(this.keys.environmentOverrides(env.id));
    tx.del(this.keys.environment(env.slug));
    tx.hdel(this.keys.environmentIndex, env.id);
    tx.change({ kind: 'environment', op: 'delete', id: env.id, slug: env.slug });
    tx.audit(
      auditEvent(environmentEventType(env, null), ctx, {
        environment: env.slug,
        before: environmentState(env, parentSlugIn(all, env)),
        data: { deletedOverrides: overrides.length },
      }),
    );
    return true;
  }

  protected async createFlagIn(tx: RedisTx, input: FlagInput, ctx: ResolvedWriteContext): Promise<Flag> {
    const flag = buildFlag(input);
    if ((await tx.get(this.keys.flag(flag.key))) !== null) throw new AlreadyExistsError('flag', flag.key);
    if ((await tx.hget(this.keys.flagIndex, flag.id)) !== null) throw new AlreadyExistsError('flag', flag.id);
    this.putFlag(tx, flag);
    tx.change({ kind: 'flag', op: 'upsert', flag: copyFlag(flag) });
    tx.audit(auditEvent(flagEventType(null, flag), ctx, { flagKey: flag.key, after: flagState(flag) }));
    return copyFlag(flag);
  }

  protected async updateFlagIn(tx: RedisTx, update: FlagUpdate, ctx: ResolvedWriteContext): Promise<Flag> {
    const byId = 'id' in update && update.id !== undefined;
    const identifier = byId ? update.id : (update as { key: string }).key;
    const existing = byId ? await this.flagById(tx, update.id) : await this.flagByKey(tx, (update as { key: string }).key);
    if (!existing) throw new NotFoundError('flag', String(identifier));
    const next = mergeFlag(existing, update);
    if (unchangedFlag(existing, next)) return copyFlag(existing);
    if (next.key !== existing.key) {
      if ((await tx.get(this.keys.flag(next.key))) !== null) throw new AlreadyExistsError('flag', next.key);
      // The flag's overrides move with it: flags:<environment>:<old key> → flags:<environment>:<new key>.
      for (const envId of await tx.smembers(this.keys.flagOverrides(existing.id))) {
        const slug = await tx.hget(this.keys.environmentIndex, envId);
        if (slug === null) continue;
        await this.move(tx, this.keys.override(slug, existing.key), this.keys.override(slug, next.key));
      }
      for (const slug of (await tx.hgetall(this.keys.environmentIndex)).values()) tx.del(this.keys.effective(slug, existing.key));
      tx.del(this.keys.flag(existing.key));
    }
    this.putFlag(tx, next);
    tx.change({ kind: 'flag', op: 'upsert', flag: copyFlag(next) });
    tx.audit(auditEvent(flagEventType(existing, next), ctx, { flagKey: existing.key, before: flagState(existing), after: flagState(next) }));
    return copyFlag(next);
  }

  protected async deleteFlagIn(tx: RedisTx, key: string, ctx: ResolvedWriteContext): Promise<boolean> {
    const flag = await this.flagByKey(tx, key);
    if (!flag) return false;
    let deleted = 0;
    for (const envId of await tx.smembers(this.keys.flagOverrides(flag.id))) {
      const slug = await tx.hget(this.keys.environmentIndex, envId);
      const raw = slug === null ? null : await tx.get(this.keys.override(slug, flag.key));
      if (raw === null) continue;
      this.removeOverride(tx, decodeOverride(raw), slug!, flag.key);
      deleted++;
    }
    tx.del(this.keys.flagOverrides(flag.id));
    tx.del(this.keys.flag(flag.key));
    tx.hdel(this.keys.flagIndex, flag.id);
    tx.change({ kind: 'flag', op: 'delete', id: flag.id, key: flag.key });
    tx.audit(auditEvent(flagEventType(flag, null), ctx, { flagKey: flag.key, before: flagState(flag), data: { deletedOverrides: deleted } }));
    return true;
  }

  protected async createEnvironmentFlagIn(tx: RedisTx, input: EnvironmentFlagInput, ctx: ResolvedWriteContext): Promise<EnvironmentFlag> {
    const slug = typeof input?.environmentId === 'string' ? await tx.hget(this.keys.environmentIndex, input.environmentId) : null;
    if (slug === null) throw new NotFoundError('environment', input?.environmentId);
    const flag = await this.flagById(tx, input.flagId);
    if (!flag) throw new NotFoundError('flag', input.flagId);
    const override = buildEnvironmentFlag(input, flag.type);
    if ((await tx.get(this.keys.override(slug, flag.key))) !== null) throw new AlreadyExistsError('environment flag', `${flag.key}@${slug}`);
    if ((await tx.hget(this.keys.overrideIndex, override.id)) !== null) throw new AlreadyExistsError('environment flag', override.id);
    this.putOverride(tx, override, slug, flag.key, true);
    tx.change({ kind: 'environmentFlag', op: 'upsert', environmentFlag: copyOverride(override) });
    tx.audit(auditEvent(overrideEventType(null, override), ctx, { flagKey: flag.key, environment: slug, after: overrideState(override) }));
    return copyOverride(override);
  }

  protected async updateEnvironmentFlagIn(tx: RedisTx, update: EnvironmentFlagUpdate, ctx: ResolvedWriteContext): Promise<EnvironmentFlag> {
    const byId = 'id' in update && update.id !== undefined;
    const { environmentId, flagId } = update as Partial<EnvironmentFlag>;
    const found = byId ? await this.overrideById(tx, update.id) : await this.overrideOf(tx, environmentId, flagId);
    if (!found) throw new NotFoundError('environment flag', byId ? String(update.id) : `${flagId}@${environmentId}`);
    const { override: existing, slug, key } = found;
    const flag = (await this.flagByKey(tx, key))!;
    const next = mergeEnvironmentFlag(existing, update, flag.type);
    if (unchangedEnvironmentFlag(existing, next)) return copyOverride(existing);
    this.putOverride(tx, next, slug, key, false);
    tx.change({ kind: 'environmentFlag', op: 'upsert', environmentFlag: copyOverride(next) });
    tx.audit(auditEvent(overrideEventType(existing, next), ctx, { flagKey: key, environment: slug, before: overrideState(existing), after: overrideState(next) }));
    return copyOverride(next);
  }

  protected async deleteEnvironmentFlagIn(tx: RedisTx, ref: EnvironmentFlagRef, ctx: ResolvedWriteContext): Promise<boolean> {
    const found = await this.overrideOf(tx, ref?.envId, ref?.flagId);
    if (!found) return false;
    const { override: o, slug, key } = found;
    this.removeOverride(tx, o, slug, key);
    tx.change({ kind: 'environmentFlag', op: 'delete', id: o.id, environmentId: o.environmentId, flagId: o.flagId });
    tx.audit(auditEvent(overrideEventType(o, null), ctx, { flagKey: key, environment: slug, before: overrideState(o) }));
    return true;
  }

  protected async createSegmentIn(tx: RedisTx, input: SegmentInput, ctx: ResolvedWriteContext): Promise<Segment> {
    const segment = buildSegment(input);
    if ((await tx.get(this.keys.segment(segment.key))) !== null) throw new AlreadyExistsError('segment', segment.key);
    if ((await tx.hget(this.keys.segmentIndex, segment.id)) !== null) throw new AlreadyExistsError('segment', segment.id);
    if (segment.parentId && (await tx.hget(this.keys.segmentIndex, segment.parentId)) === null) throw new NotFoundError('segment', segment.parentId);
    this.putSegment(tx, segment);
    tx.change({ kind: 'segment', op: 'upsert', segment: copySegment(segment) });
    tx.audit(auditEvent(segmentEventType(null, segment), ctx, { after: segmentState(segment), data: { segment: segment.key } }));
    return copySegment(segment);
  }

  protected async updateSegmentIn(tx: RedisTx, update: SegmentUpdate, ctx: ResolvedWriteContext): Promise<Segment> {
    const byId = 'id' in update && update.id !== undefined;
    const identifier = byId ? update.id : (update as Segment).key;
    let existing: Segment | null = null;
    if (typeof identifier === 'string') {
      const key = byId ? await tx.hget(this.keys.segmentIndex, identifier) : identifier;
      const raw = key === null ? null : await tx.get(this.keys.segment(key));
      existing = raw ? decodeSegment(raw) : null;
    }
    if (!existing) throw new NotFoundError('segment', String(identifier));
    const next = mergeSegment(existing, update);
    if (unchangedSegment(existing, next)) return copySegment(existing);
    if (next.key !== existing.key && (await tx.get(this.keys.segment(next.key))) !== null) throw new AlreadyExistsError('segment', next.key);
    if (next.parentId && (await tx.hget(this.keys.segmentIndex, next.parentId)) === null) throw new NotFoundError('segment', next.parentId);
    if (next.key !== existing.key) tx.del(this.keys.segment(existing.key));
    this.putSegment(tx, next);
    tx.change({ kind: 'segment', op: 'upsert', segment: copySegment(next) });
    tx.audit(auditEvent(segmentEventType(existing, next), ctx, { before: segmentState(existing), after: segmentState(next), data: { segment: existing.key } }));
    return copySegment(next);
  }

  protected async deleteSegmentIn(tx: RedisTx, key: string, ctx: ResolvedWriteContext): Promise<boolean> {
    if (typeof key !== 'string') return false;
    const raw = await tx.get(this.keys.segment(key));
    if (!raw) return false;
    const s = decodeSegment(raw);
    tx.del(this.keys.segment(s.key));
    tx.hdel(this.keys.segmentIndex, s.id);
    tx.change({ kind: 'segment', op: 'delete', id: s.id, key: s.key });
    tx.audit(auditEvent(segmentEventType(s, null), ctx, { before: segmentState(s), data: { segment: s.key } }));
    return true;
  }

  protected async pendingRequest(tx: RedisTx, id: string, version: number | undefined): Promise<ChangeRequest> {
    const raw = typeof id === 'string' ? await tx.get(this.keys.changeRequest(id)) : null;
    if (!raw) throw new AdminRecordNotFoundError('change request', String(id));
    const request = decodeChangeRequest(raw);
    if (request.status !== 'pending') throw new ChangeRequestNotPendingError(id, request.status);
    assertVersion('change request', id, request.version, version);
    return request;
  }

  // Reads and writes of records inside a transaction

  /** Every environment (the index and each record: all of them are guards of the write). */
  private async allEnvironments(tx: RedisTx): Promise<Environment[]> {
    const index = await tx.hgetall(this.keys.environmentIndex);
    const raws = await tx.mget([...index.values()].map((slug) => this.keys.environment(slug)));
    return raws.filter((raw): raw is string => raw !== null).map(decodeEnvironment);
  }

  private async flagByKey(tx: RedisTx, key: unknown): Promise<Flag | null> {
    if (typeof key !== 'string') return null;
    const raw = await tx.get(this.keys.flag(key));
    return raw ? decodeFlag(raw) : null;
  }

  private async flagById(tx: RedisTx, id: unknown): Promise<Flag | null> {
    if (typeof id !== 'string') return null;
    return this.flagByKey(tx, await tx.hget(this.keys.flagIndex, id));
  }

  /** The override of a flag in an environment (by ids), with the slug and key that name its Redis key. */
  private async overrideOf(tx: RedisTx, envId: unknown, flagId: unknown): Promise<{ override: EnvironmentFlag; slug: string; key: string } | null> {
    if (typeof envId !== 'string' || typeof flagId !== 'string') return null;
    const slug = await tx.hget(this.keys.environmentIndex, envId);
    const key = slug === null ? null : await tx.hget(this.keys.flagIndex, flagId);
    const raw = key === null ? null : await tx.get(this.keys.override(slug!, key));
    return raw ? { override: decodeOverride(raw), slug: slug!, key: key! } : null;
  }

  private async overrideById(tx: RedisTx, id: unknown): Promise<{ override: EnvironmentFlag; slug: string; key: string } | null> {
    if (typeof id !== 'string') return null;
    const pair = await tx.hget(this.keys.overrideIndex, id);
    if (pair === null) return null;
    const [envId, flagId] = JSON.parse(pair) as [string, string];
    return this.overrideOf(tx, envId, flagId);
  }

  /** Every override of an environment, with its flag. */
  private async overridesOfEnvironment(tx: RedisTx, env: Environment): Promise<{ override: EnvironmentFlag; flag: Flag }[]> {
    const out: { override: EnvironmentFlag; flag: Flag }[] = [];
    for (const flagId of await tx.smembers(this.keys.environmentOverrides(env.id))) {
      const flag = await this.flagById(tx, flagId);
      const raw = flag ? await tx.get(this.keys.override(env.slug, flag.key)) : null;
      if (raw) out.push({ override: decodeOverride(raw), flag: flag! });
    }
    return out;
  }

  /**
   * Rewrites `flags:<environment>:<flag>` — the effective state — of every (environment, flag) the
   * transaction's changes affect: a flag's in every environment, an override's in its environment and those
   * inheriting from it, an environment's (created, re-parented, its defaults changed) for every flag in it
   * and below; deleted flags and environments lose theirs. Reads are guards, as every read of a write.
   */
  private async refreshEffective(tx: RedisTx): Promise<void> {
    if (tx.changes.length === 0) return;
    const envs = await this.allEnvironments(tx);
    const byId = new Map(envs.map((e) => [e.id, e]));
    const subtree = (id: string): string[] => {
      const out: string[] = [];
      const stack = [id];
      while (stack.length > 0) {
        const cur = stack.pop()!;
        if (out.includes(cur) || !byId.has(cur)) continue;
        out.push(cur);
        for (const e of envs) if (e.parentId === cur) stack.push(e.id);
      }
      return out;
    };
    const everyFlagIn = new Set<string>();
    const everyEnvironmentOf = new Set<string>();
    const some = new Map<string, Set<string>>();
    for (const c of tx.changes) {
      if (c.kind === 'flag') {
        if (c.op === 'upsert') everyEnvironmentOf.add(c.flag.id);
        else for (const e of envs) tx.del(this.keys.effective(e.slug, c.key));
      } else if (c.kind === 'environment') {
        if (c.op === 'upsert') subtree(c.environment.id).forEach((id) => everyFlagIn.add(id));
        else for (const key of (await tx.hgetall(this.keys.flagIndex)).values()) tx.del(this.keys.effective(c.slug, key));
      } else if (c.kind === 'environmentFlag') {
        const envId = c.op === 'upsert' ? c.environmentFlag.environmentId : c.environmentId;
        const flagId = c.op === 'upsert' ? c.environmentFlag.flagId : c.flagId;
        const envIds = some.get(flagId) ?? new Set<string>();
        subtree(envId).forEach((id) => envIds.add(id));
        some.set(flagId, envIds);
      }
    }
    if (everyFlagIn.size === 0 && everyEnvironmentOf.size === 0 && some.size === 0) return;
    let flags: Flag[];
    let overrides: EnvironmentFlag[];
    if (everyFlagIn.size > 0) ({ flags, overrides } = await this.allFlagsAndOverrides(tx, envs));
    else {
      flags = (await Promise.all([...new Set([...everyEnvironmentOf, ...some.keys()])].map((id) => this.flagById(tx, id)))).filter((f): f is Flag => f !== null);
      overrides = [];
      for (const f of flags) {
        const raws = await tx.mget(envs.map((e) => this.keys.override(e.slug, f.key)));
        for (const raw of raws) if (raw !== null) overrides.push(decodeOverride(raw));
      }
    }
    const snapshot = new FlagSnapshot({ environments: envs, flags, environmentFlags: overrides, segments: [] });
    const flagsById = new Map(flags.map((f) => [f.id, f]));
    const put = (envId: string, flag: Flag | undefined): void => {
      const env = byId.get(envId);
      if (!env || !flag) return;
      tx.set(this.keys.effective(env.slug, flag.key), JSON.stringify(effectiveState(snapshot.resolve(flag, env.slug))));
    };
    for (const envId of everyFlagIn) for (const f of flags) put(envId, f);
    for (const flagId of everyEnvironmentOf) for (const e of envs) if (!everyFlagIn.has(e.id)) put(e.id, flagsById.get(flagId));
    for (const [flagId, envIds] of some) for (const envId of envIds) if (!everyFlagIn.has(envId) && !everyEnvironmentOf.has(flagId)) put(envId, flagsById.get(flagId));
  }

  /** Every flag and every override (as guards of the write). */
  private async allFlagsAndOverrides(tx: RedisTx, environments: Environment[]): Promise<{ flags: Flag[]; overrides: EnvironmentFlag[] }> {
    const flagIndex = await tx.hgetall(this.keys.flagIndex);
    const flags = (await tx.mget([...flagIndex.values()].map((key) => this.keys.flag(key)))).filter((raw): raw is string => raw !== null).map(decodeFlag);
    const keyOf = new Map(flags.map((f) => [f.id, f.key]));
    const slugOf = new Map(environments.map((e) => [e.id, e.slug]));
    const pairs = [...(await tx.hgetall(this.keys.overrideIndex)).values()].map((pair) => JSON.parse(pair) as [string, string]);
    const names = pairs.filter(([envId, flagId]) => slugOf.has(envId) && keyOf.has(flagId)).map(([envId, flagId]) => this.keys.override(slugOf.get(envId)!, keyOf.get(flagId)!));
    const overrides = (await tx.mget(names)).filter((raw): raw is string => raw !== null).map(decodeOverride);
    return { flags, overrides };
  }

  /** Moves a record from one key to another (renames). */
  private async move(tx: RedisTx, from: string, to: string): Promise<void> {
    const raw = await tx.get(from);
    if (raw === null) return;
    tx.set(to, raw);
    tx.del(from);
  }

  private putEnvironment(tx: RedisTx, env: Environment): void {
    tx.set(this.keys.environment(env.slug), JSON.stringify(env));
    tx.hset(this.keys.environmentIndex, env.id, env.slug);
  }

  private putFlag(tx: RedisTx, flag: Flag): void {
    tx.set(this.keys.flag(flag.key), JSON.stringify(flag));
    tx.hset(this.keys.flagIndex, flag.id, flag.key);
  }

  private putSegment(tx: RedisTx, segment: Segment): void {
    tx.set(this.keys.segment(segment.key), JSON.stringify(segment));
    tx.hset(this.keys.segmentIndex, segment.id, segment.key);
  }

  private putOverride(tx: RedisTx, o: EnvironmentFlag, slug: string, key: string, isNew: boolean): void {
    tx.set(this.keys.override(slug, key), JSON.stringify(o));
    if (!isNew) return;
    tx.hset(this.keys.overrideIndex, o.id, JSON.stringify([o.environmentId, o.flagId]));
    tx.sadd(this.keys.environmentOverrides(o.environmentId), o.flagId);
    tx.sadd(this.keys.flagOverrides(o.flagId), o.environmentId);
  }

  private removeOverride(tx: RedisTx, o: EnvironmentFlag, slug: string, key: string): void {
    tx.del(this.keys.override(slug, key));
    tx.hdel(this.keys.overrideIndex, o.id);
    tx.srem(this.keys.environmentOverrides(o.environmentId), o.flagId);
    tx.srem(this.keys.flagOverrides(o.flagId), o.environmentId);
  }

  // Running against Redis

  /** Runs a write's attempts until one commits (or is refused); reports its changes and events after the commit. */
  protected write<T>(work: (tx: RedisTx) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      for (let attempt = 1; ; attempt++) {
        const tx = new RedisTx(this.access);
        let result: T;
        try {
          result = await work(tx);
          // The effective states of what the write changed, in the same commit.
          await this.refreshEffective(tx);
        } catch (e) {
          // A refusal is final only if what it was based on is still current (reads are not one snapshot).
          if (e instanceof StorageUnavailableError || tx.guards.length === 0 || attempt >= MAX_ATTEMPTS || (await this.holds(tx))) throw e;
          await pause(attempt);
          continue;
        }
        if (tx.isEmpty) {
          if (tx.guards.length <= 1 || attempt >= MAX_ATTEMPTS || (await this.holds(tx))) return result;
          await pause(attempt);
          continue;
        }
        const reply = await this.commit(tx);
        if (reply[0] === 1) {
          const [, n, ids, epoch] = reply as [number, number, number[], string];
          tx.changes.forEach((change, part) => this.notifier.emit(change, { epoch, n: Number(n), part, parts: tx.changes.length }));
          tx.events.forEach((event, i) => this.eventNotifier.emit(new AuditEvent({ ...event, id: Number(ids[i]) })));
          return result;
        }
        if (attempt >= MAX_ATTEMPTS) {
          throw new StorageUnavailableError(`The feature-flag data in Redis kept changing during the write (${MAX_ATTEMPTS} attempts): try again.`);
        }
        await pause(attempt);
      }
    });
  }

  private commit(tx: RedisTx): Promise<[number, number, number[], string] | [number, number] | [number]> {
    const program = {
      guards: tx.guards,
      ops: tx.ops,
      events: tx.events.map(encodeEvent),
      seq: this.keys.eventSeq,
      stream: this.keys.events,
      max: String(this.maxEvents),
      revision: this.keys.revision,
      // Only what the snapshot holds moves the revision (not API tokens or change requests).
      bump: tx.changes.length > 0,
      epoch: this.keys.epoch,
      epochValue: randomUUID(),
    };
    return this.run((c) => c.featureFlagsCommit(JSON.stringify(program)));
  }

  /** Whether everything a transaction read is still what Redis holds. */
  private async holds(tx: RedisTx): Promise<boolean> {
    const reply = await this.run((c) => c.featureFlagsCommit(JSON.stringify({ guards: tx.guards, check: true })));
    return reply[0] === 1;
  }

  private read(what: string, a = '', b = ''): Promise<unknown> {
    return this.run((c) => c.featureFlagsRead(this.keys.prefix, what, a, b));
  }

  /** Runs writes one at a time (in this process; other processes are handled by the commit's guards). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs a command, failing fast with StorageUnavailableError while Redis is unreachable. */
  private async run<T>(work: (client: ScriptedRedis) => Promise<T>): Promise<T> {
    const status = this.client.status;
    if (status === 'end' || status === 'close' || status === 'reconnecting') {
      throw new StorageUnavailableError(`Redis is unreachable (connection ${status}${this.lastError ? `: ${this.lastError}` : ''}).`);
    }
    try {
      return await new Promise<T>((resolve, reject) => {
        this.inFlight.add(reject);
        work(this.client)
          .then(resolve, reject)
          .finally(() => this.inFlight.delete(reject));
      });
    } catch (e) {
      if (e instanceof FeatureFlagsError) throw e;
      const err = e as Error;
      if (err?.name === 'ReplyError' && !UNAVAILABLE_REPLY.test(err.message)) throw e;
      throw new StorageUnavailableError(`Redis is unreachable: ${this.describe(e)}`, e);
    }
  }

  private describe(e: unknown): string {
    const message = (e as Error)?.message ?? String(e);
    return this.lastError && this.lastError !== message ? `${message} (${this.lastError})` : message;
  }
}
