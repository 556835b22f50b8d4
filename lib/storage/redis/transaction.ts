import type { RedisReader } from './redis-client';
import { StorageChange } from '../../core/changes';
import { AuditEventInput } from '../audit';

/** What a write read, compared with Redis again when it commits (see COMMIT_SCRIPT). */
export type Guard =
  | ['get', string, string | null]
  | ['hget', string, string, string | null]
  | ['hgetall', string, Record<string, string>]
  | ['smembers', string, string[]];

/** One write of a commit, applied in order by COMMIT_SCRIPT. */
export type Op =
  | ['set', string, string]
  | ['del', string]
  | ['hset', string, string, string]
  | ['hdel', string, string]
  | ['sadd', string, string]
  | ['srem', string, string]
  | ['rpush', string, string];

/** How a transaction reaches Redis: `run` maps connection failures to StorageUnavailableError. */
export interface RedisAccess {
  run<T>(work: (client: RedisReader) => Promise<T>): Promise<T>;
}

/**
 * One attempt of a write (optimistic concurrency): reads go to Redis and are remembered as guards; writes
 * are collected as ops, and later reads of the same attempt see them (so that the writes of a batch build
 * on each other). The commit script then applies the ops only if every guard still holds — nothing the
 * write based its decision on has changed — and otherwise the write runs again from the start.
 */
export class RedisTx {
  readonly guards: Guard[] = [];
  readonly ops: Op[] = [];
  readonly events: AuditEventInput[] = [];
  readonly changes: StorageChange[] = [];

  /** Strings written in this attempt (null: deleted). */
  private readonly written = new Map<string, string | null>();
  /** Strings read from Redis. */
  private readonly read = new Map<string, string | null>();
  private readonly fieldsRead = new Map<string, Map<string, string | null>>();
  private readonly hashesRead = new Map<string, Map<string, string>>();
  private readonly fieldsWritten = new Map<string, Map<string, string | null>>();
  private readonly setsRead = new Map<string, Set<string>>();
  private readonly membersWritten = new Map<string, Map<string, boolean>>();
  /** Hashes and sets deleted in this attempt: empty from then on, whatever Redis holds. */
  private readonly cleared = new Set<string>();

  constructor(private readonly redis: RedisAccess) {}

  /** Whether the attempt writes nothing (a delete of a missing record, a no-op). */
  get isEmpty(): boolean {
    return this.ops.length === 0 && this.events.length === 0;
  }

  async get(key: string): Promise<string | null> {
    return (await this.mget([key]))[0];
  }

  async mget(keys: string[]): Promise<(string | null)[]> {
    const missing = [...new Set(keys.filter((k) => !this.written.has(k) && !this.read.has(k)))];
    if (missing.length > 0) {
      const values = await this.redis.run((c) => c.mget(...missing));
      missing.forEach((key, i) => {
        if (this.read.has(key)) return;
        this.read.set(key, values[i] ?? null);
        this.guards.push(['get', key, values[i] ?? null]);
      });
    }
    return keys.map((k) => (this.written.has(k) ? this.written.get(k)! : this.read.get(k)!));
  }

  async hget(key: string, field: string): Promise<string | null> {
    const written = this.fieldsWritten.get(key);
    if (written?.has(field)) return written.get(field)!;
    if (this.cleared.has(key)) return null;
    const whole = this.hashesRead.get(key);
    if (whole) return whole.get(field) ?? null;
    const fields = mapOf(this.fieldsRead, key);
    if (!fields.has(field)) {
      const value = await this.redis.run((c) => c.hget(key, field));
      if (!fields.has(field)) {
        fields.set(field, value ?? null);
        this.guards.push(['hget', key, field, value ?? null]);
      }
    }
    return fields.get(field)!;
  }

  async hgetall(key: string): Promise<Map<string, string>> {
    let base = this.cleared.has(key) ? new Map<string, string>() : this.hashesRead.get(key);
    if (!base) {
      const flat = (await this.redis.run((c) => c.call('HGETALL', key))) as string[];
      base = this.hashesRead.get(key);
      if (!base) {
        base = new Map();
        for (let i = 0; i < flat.length; i += 2) base.set(flat[i], flat[i + 1]);
        this.hashesRead.set(key, base);
        this.guards.push(['hgetall', key, Object.fromEntries(base)]);
      }
    }
    const out = new Map(base);
    for (const [field, value] of this.fieldsWritten.get(key) ?? []) {
      if (value === null) out.delete(field);
      else out.set(field, value);
    }
    return out;
  }

  async smembers(key: string): Promise<string[]> {
    let base = this.cleared.has(key) ? new Set<string>() : this.setsRead.get(key);
    if (!base) {
      const members = await this.redis.run((c) => c.smembers(key));
      base = this.setsRead.get(key);
      if (!base) {
        base = new Set(members);
        this.setsRead.set(key, base);
        this.guards.push(['smembers', key, [...base]]);
      }
    }
    const out = new Set(base);
    for (const [member, present] of this.membersWritten.get(key) ?? []) {
      if (present) out.add(member);
      else out.delete(member);
    }
    return [...out];
  }

  set(key: string, value: string): void {
    this.written.set(key, value);
    this.ops.push(['set', key, value]);
  }

  /** Deletes a key of any type. */
  del(key: string): void {
    this.written.set(key, null);
    this.fieldsWritten.delete(key);
    this.membersWritten.delete(key);
    this.cleared.add(key);
    this.ops.push(['del', key]);
  }

  hset(key: string, field: string, value: string): void {
    mapOf(this.fieldsWritten, key).set(field, value);
    this.ops.push(['hset', key, field, value]);
  }

  hdel(key: string, field: string): void {
    mapOf(this.fieldsWritten, key).set(field, null);
    this.ops.push(['hdel', key, field]);
  }

  sadd(key: string, member: string): void {
    mapOf(this.membersWritten, key).set(member, true);
    this.ops.push(['sadd', key, member]);
  }

  srem(key: string, member: string): void {
    mapOf(this.membersWritten, key).set(member, false);
    this.ops.push(['srem', key, member]);
  }

  /** Appends to a list (lists are only appended to, never read in a transaction). */
  rpush(key: string, value: string): void {
    this.ops.push(['rpush', key, value]);
  }

  /** Records a change, reported to listeners once the commit succeeded. */
  change(change: StorageChange): void {
    this.changes.push(change);
  }

  /** Records the write's audit event, appended to the log by the commit itself. */
  audit(event: AuditEventInput): void {
    this.events.push(event);
  }
}

function mapOf<V>(maps: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let map = maps.get(key);
  if (!map) maps.set(key, (map = new Map()));
  return map;
}
