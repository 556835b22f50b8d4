/**
 * The ioredis types that the public API names, declared here rather than imported so that the library's
 * type declarations compile without ioredis installed (it is an optional peer). An ioredis `RedisOptions`
 * object and an ioredis client fit them as they are.
 */

/** ioredis connection options (`new Redis(options)`), the commonly used ones. */
export interface RedisConnectionOptions {
  host?: string;
  port?: number;
  path?: string;
  family?: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: object;
  name?: string;
  sentinels?: object[];
  sentinelPassword?: string;
  connectionName?: string;
  connectTimeout?: number;
  commandTimeout?: number;
  keepAlive?: number;
  noDelay?: boolean;
  maxRetriesPerRequest?: number | null;
  retryStrategy?: ((times: number) => number | void | null) | null;
  reconnectOnError?: ((error: Error) => boolean | 1 | 2) | null;
  enableReadyCheck?: boolean;
  enableOfflineQueue?: boolean;
  enableAutoPipelining?: boolean;
  autoResubscribe?: boolean;
  lazyConnect?: boolean;
  /** Refused by RedisStorage, whose own `prefix` prefixes every key (ioredis does not prefix script keys). */
  keyPrefix?: string;
}

/** Redis connection settings: a URL (`redis://host:6379/0`) or ioredis options. */
export type RedisConnection = string | RedisConnectionOptions;

/** An ioredis client (`new Redis(…)`), as RedisStorage accepts one. */
export interface RedisClient {
  readonly status: string;
  readonly options: object;
  // ioredis's listeners take event-specific arguments; any[] accepts each of them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
  sendCommand(...args: unknown[]): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** The reads a storage transaction makes (an ioredis client has them). */
export interface RedisReader {
  mget(...keys: string[]): Promise<(string | null)[]>;
  hget(key: string, field: string): Promise<string | null>;
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  smembers(key: string): Promise<string[]>;
}
