import Redis from 'ioredis';
import { RedisStorage } from '../../lib/storage/redis.storage';
import { SERVICE_URLS } from '../support/services';
import { StorageFixture } from './storage-contract';

let prefixes = 0;

/** A prefix no other test (or parallel run) uses. */
export function uniquePrefix(tag = 'ff-test'): string {
  return `${tag}:${process.pid}:${Date.now().toString(36)}:${prefixes++}:`;
}

/** A plain client for inspecting and cleaning up keys (fails fast, no retries). */
export function inspector(): Redis {
  return new Redis(SERVICE_URLS.redis, { maxRetriesPerRequest: 1 });
}

/** Every key under a prefix. */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** Deletes every key under a prefix (SCAN + UNLINK). */
export async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix);
  for (let i = 0; i < keys.length; i += 500) await client.unlink(...keys.slice(i, i + 500));
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** A fresh RedisStorage on a prefix of its own; cleanup closes it and deletes the prefix's keys. */
export async function redisFixture(
  cleaner: () => Redis,
): Promise<StorageFixture & { prefix: string; storage: RedisStorage }> {
  const prefix = uniquePrefix();
  const storage = new RedisStorage(SERVICE_URLS.redis, { prefix });
  await storage.init();
  return {
    prefix,
    storage,
    cleanup: async () => {
      await storage.close();
      await deletePrefix(cleaner(), prefix);
    },
  };
}
