import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { SnapshotData, StorageChangeListener } from '../core/changes';
import { FeatureFlagsError, FeatureFlagsValidationError, StorageUnavailableError } from '../core/errors';
import { assertChangeRequestFilter, changeRequestMatches } from './admin-records';
import { AuditEventNotifier, eventMatches, resolveEventFilter } from './audit';
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
  encodeEvent,
} from './redis/codec';
import { RedisKeys } from './redis/keys';
import { CLIENT_DEFAULTS, createRedisClient, isRedisClient, UNAVAILABLE_REPLY, whenReady } from './redis/connect';
import type { RedisClient, RedisConnection } from './redis/redis-client';
import { RedisRecords } from './redis/redis-records';
import { COMMIT_SCRIPT, READ_SCRIPT } from './redis/scripts';
import { RedisAccess, RedisTx } from './redis/transaction';
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

/** How many times a write runs when what it read keeps changing under it. */
const MAX_ATTEMPTS = 100;

/** The client with the storage's scripts (`defineCommand`). */
interface ScriptedRedis extends Redis {
  featureFlagsCommit(program: string): Promise<[number, number, number[], string] | [number, number] | [number]>;
  featureFlagsRead(prefix: string, what: string, a: string, b: string): Promise<unknown>;
}

const pause = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 50)));

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
export class RedisStorage extends TransactionalStorage implements FeatureFlagStorage, FeatureFlagAdminStorage {
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
    const error = new StorageUnavailableError(
      `The connection to Redis was lost${this.lastError ? ` (${this.lastError})` : ''}.`,
    );
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
    if (!Number.isInteger(maxEvents) || maxEvents < 0)
      throw new FeatureFlagsValidationError('maxEvents', 'must be a whole number (0 keeps every event)');
    this.keys = new RedisKeys(prefix);
    this.maxEvents = maxEvents;
    let client: Redis;
    if (isRedisClient(connection)) {
      client = connection as Redis;
      this.ownsClient = options.ownsClient ?? false;
    } else {
      client =
        typeof connection === 'string'
          ? createRedisClient(connection, CLIENT_DEFAULTS)
          : createRedisClient({ ...CLIENT_DEFAULTS, ...connection });
      this.ownsClient = options.ownsClient ?? true;
      // Errors surface in the calls that fail; the event only keeps the last one for their message.
      client.on('error', (e: Error) => void (this.lastError = e.message));
      client.on('ready', () => void (this.lastError = undefined));
    }
    if (client.options?.keyPrefix) {
      // Scripts name their keys in arguments, which ioredis does not prefix: the prefix option does it all.
      if (this.ownsClient) client.disconnect();
      throw new FeatureFlagsValidationError(
        'keyPrefix',
        'is not supported by RedisStorage: use its "prefix" option (the module option "redisPrefix") instead',
      );
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
    await this.attempts((tx) => new RedisRecords(tx, this.keys).upgradeLayout(LAYOUT));
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
    return this.attempts(async (tx) => {
      const records = new RedisRecords(tx, this.keys);
      const result = await work(records);
      // The effective states of what the write changed, in the same commit.
      await records.refreshEffective();
      return result;
    });
  }

  /** Runs a write's attempts until one commits (or is refused); reports its changes and events after the commit. */
  private attempts<T>(work: (tx: RedisTx) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      for (let attempt = 1; ; attempt++) {
        const tx = new RedisTx(this.access);
        let result: T;
        try {
          result = await work(tx);
        } catch (e) {
          // A refusal is final only if what it was based on is still current (reads are not one snapshot).
          if (
            e instanceof StorageUnavailableError ||
            tx.guards.length === 0 ||
            attempt >= MAX_ATTEMPTS ||
            (await this.holds(tx))
          )
            throw e;
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
          tx.changes.forEach((change, part) =>
            this.notifier.emit(change, { epoch, n: Number(n), part, parts: tx.changes.length }),
          );
          tx.events.forEach((event, i) => this.eventNotifier.emit(new AuditEvent({ ...event, id: Number(ids[i]) })));
          return result;
        }
        if (attempt >= MAX_ATTEMPTS) {
          throw new StorageUnavailableError(
            `The feature-flag data in Redis kept changing during the write (${MAX_ATTEMPTS} attempts): try again.`,
          );
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
      throw new StorageUnavailableError(
        `Redis is unreachable (connection ${status}${this.lastError ? `: ${this.lastError}` : ''}).`,
      );
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
