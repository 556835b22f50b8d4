import type { Redis, RedisOptions } from 'ioredis';
import { requirePeer } from '../../optional-peers';
import type { RedisConnection } from './redis-client';

/*
 * Making ioredis clients (ioredis is an optional peer dependency, loaded on first use). Apart from
 * redis-client.ts so that the types the public API names never need ioredis's own.
 */

/** Creates an ioredis client (ioredis is an optional peer dependency, loaded on first use). */
export function createRedisClient(connection: RedisConnection, extra: RedisOptions = {}): Redis {
  const RedisClass = requirePeer<typeof import('ioredis')>('ioredis', 'redis', 'Redis (the redis backend, or changes over Redis pub/sub)').default;
  return typeof connection === 'string' ? new RedisClass(connection, extra) : new RedisClass({ ...(connection as RedisOptions), ...extra });
}
