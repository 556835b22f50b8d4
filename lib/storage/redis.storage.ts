import { SnapshotData, StorageChangeListener } from '../core/changes';
import { FeatureFlagsValidationError } from '../core/errors';
import { assertChangeRequestFilter, changeRequestMatches } from './admin-records';
import { AuditEventNotifier } from './audit';
import { eventMatches, resolveEventFilter } from './audit-filter';
import { ChangeRequestFilter, FeatureFlagAdminStorage } from './feature-flag-admin-storage.interface';
import { AuditEventFilter, AuditEventListener, FeatureFlagStorage, FlagFilter } from './feature-flag-storage.interface';
import { OverrideRef } from './inputs';
import { RecordTransaction } from './record-transaction';
import { ApiToken, AuditEvent, ChangeRequest, ClientKey, Environment, Flag, Override, Segment } from './records';
import {
  byCreation,
  byKey,
  bySlug,
  decodeApiToken,
  decodeChangeRequest,
  decodeClientKey,
  decodeEnvironment,
  decodeEvent,
  decodeFlag,
  decodeOverride,
  decodeSegment,
} from './redis/codec';
import { refreshEffectiveStates, upgradeLayout } from './redis/effective-state-writes';
import { RedisKeys } from './redis/keys';
import type { RedisClient, RedisConnection } from './redis/redis-client';
import { RedisRecords } from './redis/redis-records';
import { ScriptedRedis, ScriptedRedisClient } from './redis/scripted-client';
import { RedisWriteRunner } from './redis/write-runner';
import { ChangeNotifier, flagMatches } from './storage-records';
import { TransactionalStorage } from './transactional-storage';

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

/** The key layout this version writes (see RedisKeys). */
const LAYOUT = '2';

/**
 * Stores flags, environments, overrides and segments in Redis (ioredis), under a key prefix:
 * `<prefix>override:<environment>:<flag>` holds an environment's override of a flag and
 * `<prefix>flags:<environment>:<flag>` what the environment serves of the flag (see `RedisKeys` for every
 * key). For apps that run many instances and already run Redis; the module then also
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
export class RedisStorage extends TransactionalStorage implements FeatureFlagStorage, FeatureFlagAdminStorage {
  /** The key layout. */
  readonly keys: RedisKeys;
  private readonly client: ScriptedRedisClient;
  private readonly writes: RedisWriteRunner;
  private readonly notifier = new ChangeNotifier();
  private readonly eventNotifier = new AuditEventNotifier();

  /**
   * @param connection a `redis://` URL or ioredis options (the storage creates and owns a client), or an
   *   ioredis client (the storage uses it and leaves it open unless `ownsClient`).
   */
  constructor(connection: RedisConnection | RedisClient, options: RedisStorageOptions = {}) {
    super();
    const prefix = options.prefix ?? 'feature-flags:';
    if (typeof prefix !== 'string') throw new FeatureFlagsValidationError('prefix', 'must be a string');
    const maxEvents = options.maxEvents ?? 100_000;
    if (!Number.isInteger(maxEvents) || maxEvents < 0)
      throw new FeatureFlagsValidationError('maxEvents', 'must be a whole number (0 keeps every event)');
    this.keys = new RedisKeys(prefix);
    this.client = new ScriptedRedisClient(connection, options.ownsClient);
    this.writes = new RedisWriteRunner(this.client, this.keys, maxEvents, this.notifier, this.eventNotifier);
  }

  /** Connects (an owned client) and pings Redis. @throws StorageUnavailableError when Redis cannot be reached. */
  async init(): Promise<void> {
    await this.client.connect();
    await this.upgradeLayout();
  }

  /**
   * Brings a store written by an earlier version to the current key layout, once: its overrides move from
   * `flags:<environment>:<flag>` to `override:<environment>:<flag>`, and `flags:` keys get the effective
   * states. One atomic commit (it moves no revision: nothing served changes).
   */
  private async upgradeLayout(): Promise<void> {
    if ((await this.run((c) => c.get(this.keys.layout))) === LAYOUT) return;
    await this.writes.attempts((tx) => upgradeLayout(new RedisRecords(tx, this.keys), LAYOUT));
  }

  /** Waits for running writes, then quits the client if the storage owns it. */
  async close(): Promise<void> {
    await this.writes.idle();
    await this.client.close();
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
      overrides: overrides.map(decodeOverride).sort(byCreation),
      segments: segments.map(decodeSegment).sort(byKey),
    };
  }

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

  async getOverride(ref: OverrideRef): Promise<Override | null> {
    if (typeof ref?.envId !== 'string' || typeof ref.flagId !== 'string') return null;
    const raw = (await this.read('override', ref.envId, ref.flagId)) as string | null;
    return raw ? decodeOverride(raw) : null;
  }

  async listOverrides(filter?: Partial<OverrideRef>): Promise<Override[]> {
    const envId = filter?.envId;
    const flagId = filter?.flagId;
    if ((envId !== undefined && typeof envId !== 'string') || (flagId !== undefined && typeof flagId !== 'string'))
      return [];
    return ((await this.read('overrides', envId ?? '', flagId ?? '')) as string[]).map(decodeOverride).sort(byCreation);
  }

  async getSegment(key: string): Promise<Segment | null> {
    if (typeof key !== 'string') return null;
    const raw = await this.run((c) => c.get(this.keys.segment(key)));
    return raw ? decodeSegment(raw) : null;
  }

  async listSegments(): Promise<Segment[]> {
    return ((await this.read('segments')) as string[]).map(decodeSegment).sort(byKey);
  }

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
          : c.xrevrange(
              this.keys.events,
              high === Number.MAX_SAFE_INTEGER ? '+' : `0-${high}`,
              `0-${low}`,
              'COUNT',
              page,
            ),
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

  async getApiToken(id: string): Promise<ApiToken | null> {
    return this.getRecord(id, (k) => this.keys.apiToken(k), decodeApiToken);
  }

  async findApiTokenBySecretHash(secretHash: string): Promise<ApiToken | null> {
    return this.findBySecret('api-token-by-secret', secretHash, decodeApiToken);
  }

  async listApiTokens(): Promise<ApiToken[]> {
    return ((await this.read('api-tokens')) as string[]).map(decodeApiToken);
  }

  async getClientKey(id: string): Promise<ClientKey | null> {
    return this.getRecord(id, (k) => this.keys.clientKey(k), decodeClientKey);
  }

  async findClientKeyBySecretHash(secretHash: string): Promise<ClientKey | null> {
    return this.findBySecret('client-key-by-secret', secretHash, decodeClientKey);
  }

  async listClientKeys(): Promise<ClientKey[]> {
    return ((await this.read('client-keys')) as string[]).map(decodeClientKey);
  }

  async getChangeRequest(id: string): Promise<ChangeRequest | null> {
    return this.getRecord(id, (k) => this.keys.changeRequest(k), decodeChangeRequest);
  }

  async listChangeRequests(filter?: ChangeRequestFilter): Promise<ChangeRequest[]> {
    assertChangeRequestFilter(filter);
    return ((await this.read('change-requests')) as string[])
      .map(decodeChangeRequest)
      .filter((c) => changeRequestMatches(c, filter))
      .reverse();
  }

  private async getRecord<T>(id: string, key: (id: string) => string, decode: (raw: string) => T): Promise<T | null> {
    if (typeof id !== 'string') return null;
    const raw = await this.run((c) => c.get(key(id)));
    return raw ? decode(raw) : null;
  }

  private async findBySecret<T>(what: string, secretHash: string, decode: (raw: string) => T): Promise<T | null> {
    if (typeof secretHash !== 'string') return null;
    const raw = (await this.read(what, secretHash)) as string | null;
    return raw ? decode(raw) : null;
  }

  // Running against Redis

  protected transaction<T>(work: (tx: RecordTransaction) => Promise<T>): Promise<T> {
    return this.writes.attempts(async (tx) => {
      const records = new RedisRecords(tx, this.keys);
      const result = await work(records);
      // The effective states of what the write changed, in the same commit.
      await refreshEffectiveStates(records);
      return result;
    });
  }

  private read(what: string, a = '', b = ''): Promise<unknown> {
    return this.client.read(this.keys.prefix, what, a, b);
  }

  private run<T>(work: (client: ScriptedRedis) => Promise<T>): Promise<T> {
    return this.client.run(work);
  }
}
