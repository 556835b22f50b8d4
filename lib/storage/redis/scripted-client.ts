import type { Redis } from 'ioredis';
import { FeatureFlagsError, FeatureFlagsValidationError, StorageUnavailableError } from '../../core/errors';
import { CLIENT_DEFAULTS, createRedisClient, isRedisClient, UNAVAILABLE_REPLY, whenReady } from './connect';
import type { RedisClient, RedisConnection } from './redis-client';
import { COMMIT_SCRIPT, READ_SCRIPT } from './scripts';

/** What the commit script replies: `{1, revision, eventIds, epoch}` once applied, `{1, revision}` / `{0}` otherwise. */
export type CommitReply = [number, number, number[], string] | [number, number] | [number];

/** The client with the storage's scripts (`defineCommand`). */
export interface ScriptedRedis extends Redis {
  featureFlagsCommit(program: string): Promise<CommitReply>;
  featureFlagsRead(prefix: string, what: string, a: string, b: string): Promise<unknown>;
}

/**
 * RedisStorage's connection: the ioredis client (created from a URL or options and owned, or passed in),
 * with the storage's scripts defined on it. Every command goes through `run`, which fails fast with
 * StorageUnavailableError while Redis is unreachable, and fails the commands awaiting their reply as soon
 * as the connection drops (ioredis would keep them).
 */
export class ScriptedRedisClient {
  private readonly client: ScriptedRedis;
  readonly ownsClient: boolean;
  private lastError: string | undefined;
  private readonly inFlight = new Set<(error: StorageUnavailableError) => void>();
  private readonly onClose = (): void => {
    const error = new StorageUnavailableError(
      `The connection to Redis was lost${this.lastError ? ` (${this.lastError})` : ''}.`,
    );
    for (const fail of [...this.inFlight]) fail(error);
  };

  /**
   * @param connection a `redis://` URL or ioredis options (a client created and owned), or an ioredis
   *   client (used, and left open unless `ownsClient`).
   */
  constructor(connection: RedisConnection | RedisClient, ownsClient: boolean | undefined) {
    let client: Redis;
    if (isRedisClient(connection)) {
      client = connection as Redis;
      this.ownsClient = ownsClient ?? false;
    } else {
      client =
        typeof connection === 'string'
          ? createRedisClient(connection, CLIENT_DEFAULTS)
          : createRedisClient({ ...CLIENT_DEFAULTS, ...connection });
      this.ownsClient = ownsClient ?? true;
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
  async connect(): Promise<void> {
    const c = this.client;
    if (!c.listeners('close').includes(this.onClose)) c.on('close', this.onClose);
    try {
      if (c.status === 'wait' || (c.status === 'end' && this.ownsClient)) await c.connect();
      else if (c.status === 'connecting' || c.status === 'connect') await whenReady(c);
      await c.ping();
    } catch (e) {
      throw new StorageUnavailableError(`Cannot connect to Redis for the feature flags: ${this.describe(e)}`, e);
    }
  }

  /** Quits the client if the storage owns it. */
  async close(): Promise<void> {
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

  /** Runs the commit script on a program (see scripts.ts). */
  commit(program: object): Promise<CommitReply> {
    return this.run((c) => c.featureFlagsCommit(JSON.stringify(program)));
  }

  /** Runs the read script: `what` under the prefix, with its arguments. */
  read(prefix: string, what: string, a = '', b = ''): Promise<unknown> {
    return this.run((c) => c.featureFlagsRead(prefix, what, a, b));
  }

  /** Runs a command, failing fast with StorageUnavailableError while Redis is unreachable. */
  async run<T>(work: (client: ScriptedRedis) => Promise<T>): Promise<T> {
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
