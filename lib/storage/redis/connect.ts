import type { Redis, RedisOptions } from 'ioredis';
import { requirePeer } from '../../optional-peers';
import type { RedisClient, RedisConnection } from './redis-client';

/*
 * Making ioredis clients (ioredis is an optional peer dependency, loaded on first use). Apart from
 * redis-client.ts so that the types the public API names never need ioredis's own.
 */

/** Creates an ioredis client (ioredis is an optional peer dependency, loaded on first use). */
export function createRedisClient(connection: RedisConnection, extra: RedisOptions = {}): Redis {
  const RedisClass = requirePeer<typeof import('ioredis')>(
    'ioredis',
    'redis',
    'Redis (the redis backend, or changes over Redis pub/sub)',
  ).default;
  return typeof connection === 'string'
    ? new RedisClass(connection, extra)
    : new RedisClass({ ...(connection as RedisOptions), ...extra });
}

/**
 * Settings of the clients the storage creates: fail fast while Redis is away (no offline queue, one
 * retry, no resending of a command whose reply was lost — a commit must not run twice — and no command
 * waiting more than 5 s for its reply), and keep reconnecting in the background. Options passed in
 * override them.
 */
export const CLIENT_DEFAULTS: RedisOptions = {
  lazyConnect: true,
  connectTimeout: 2000,
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  commandTimeout: 5000,
  retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
};

/** Reply errors that mean the server cannot serve now (loading, failing over, busy…). */
export const UNAVAILABLE_REPLY = /^(LOADING|MASTERDOWN|READONLY|BUSY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|MISCONF)\b/;

export function isRedisClient(value: unknown): value is RedisClient {
  const v = value as Partial<Redis> | null;
  return (
    typeof v === 'object' && v !== null && typeof v.defineCommand === 'function' && typeof v.sendCommand === 'function'
  );
}

/** Waits for a connecting client to be ready (at most its connect timeout, or 10 s). */
export function whenReady(c: Redis): Promise<void> {
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
