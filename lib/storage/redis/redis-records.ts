import { StorageChange } from '../../core/changes';
import { AuditEventInput } from '../audit';
import { DeletableKind, RecordKind, RecordLookups, RecordTransaction, StoredRecords } from '../record-transaction';
import { ApiToken, ChangeRequest, ClientKey, Environment, Flag, Override, Segment } from '../records';
import {
  byCreation,
  decodeApiToken,
  decodeChangeRequest,
  decodeClientKey,
  decodeEnvironment,
  decodeFlag,
  decodeOverride,
  decodeSegment,
} from './codec';
import { RedisKeys } from './keys';
import { RedisTx } from './transaction';

type Lookup = {
  id?: string;
  slug?: string;
  key?: string;
  environmentId?: string;
  flagId?: string;
  secretHash?: string;
};
type Found = { override: Override; slug: string; key: string };

/**
 * The Redis backend's records inside one attempt of a write (`RedisTx`: reads are guards, writes are
 * collected for the commit script), in the key layout of `RedisKeys`. An override lives under its
 * environment's slug and its flag's key, so renaming either moves its overrides.
 */
export class RedisRecords implements RecordTransaction {
  duplicate?: RecordTransaction['duplicate'];

  constructor(
    readonly tx: RedisTx,
    readonly keys: RedisKeys,
  ) {}

  /** Every environment (the index and each record: all of them are guards of the write). */
  async environments(): Promise<Environment[]> {
    const index = await this.tx.hgetall(this.keys.environmentIndex);
    const raws = await this.tx.mget([...index.values()].map((slug) => this.keys.environment(slug)));
    return raws.filter((raw): raw is string => raw !== null).map(decodeEnvironment);
  }

  async flags(): Promise<Flag[]> {
    const index = await this.tx.hgetall(this.keys.flagIndex);
    return (await this.tx.mget([...index.values()].map((key) => this.keys.flag(key))))
      .filter((raw): raw is string => raw !== null)
      .map(decodeFlag);
  }

  async overrides(): Promise<Override[]> {
    return (await this.flagsAndOverrides(await this.environments())).overrides.sort(byCreation);
  }

  /** Every flag and every override (as guards of the write). */
  async flagsAndOverrides(environments: Environment[]): Promise<{ flags: Flag[]; overrides: Override[] }> {
    const flags = await this.flags();
    const keyOf = new Map(flags.map((f) => [f.id, f.key]));
    const slugOf = new Map(environments.map((e) => [e.id, e.slug]));
    const pairs = [...(await this.tx.hgetall(this.keys.overrideIndex)).values()].map(
      (pair) => JSON.parse(pair) as [string, string],
    );
    const names = pairs
      .filter(([envId, flagId]) => slugOf.has(envId) && keyOf.has(flagId))
      .map(([envId, flagId]) => this.keys.override(slugOf.get(envId)!, keyOf.get(flagId)!));
    const overrides = (await this.tx.mget(names)).filter((raw): raw is string => raw !== null).map(decodeOverride);
    return { flags, overrides };
  }

  async find<K extends RecordKind>(kind: K, by: RecordLookups[K]): Promise<StoredRecords[K] | null> {
    const b = by as Lookup;
    const tx = this.tx;
    const k = this.keys;
    switch (kind) {
      case 'environment': {
        const slug = b.id !== undefined ? await tx.hget(k.environmentIndex, b.id) : b.slug!;
        const raw = slug === null ? null : await tx.get(k.environment(slug));
        return (raw ? decodeEnvironment(raw) : null) as StoredRecords[K] | null;
      }
      case 'flag':
        return (await this.flagByKey(b.id !== undefined ? await tx.hget(k.flagIndex, b.id) : b.key!)) as
          StoredRecords[K] | null;
      case 'override':
        return ((await this.override(b))?.override ?? null) as StoredRecords[K] | null;
      case 'segment': {
        const key = b.id !== undefined ? await tx.hget(k.segmentIndex, b.id) : b.key!;
        const raw = key === null ? null : await tx.get(k.segment(key));
        return (raw ? decodeSegment(raw) : null) as StoredRecords[K] | null;
      }
      case 'apiToken':
      case 'clientKey': {
        const id =
          b.id !== undefined
            ? b.id
            : await tx.hget(kind === 'apiToken' ? k.apiTokenSecrets : k.clientKeySecrets, b.secretHash!);
        const raw = id === null ? null : await tx.get(kind === 'apiToken' ? k.apiToken(id) : k.clientKey(id));
        if (!raw) return null;
        return (kind === 'apiToken' ? decodeApiToken(raw) : decodeClientKey(raw)) as StoredRecords[K];
      }
      default: {
        const raw = await tx.get(k.changeRequest(b.id!));
        return (raw ? decodeChangeRequest(raw) : null) as StoredRecords[K] | null;
      }
    }
  }

  /** Whether a record exists, read from its index where one answers (fewer guards than reading the record). */
  async exists<K extends RecordKind>(kind: K, by: RecordLookups[K]): Promise<boolean> {
    const b = by as Lookup;
    const k = this.keys;
    if (kind === 'flag')
      return (b.id !== undefined ? await this.tx.hget(k.flagIndex, b.id) : await this.tx.get(k.flag(b.key!))) !== null;
    if (kind === 'segment')
      return (
        (b.id !== undefined ? await this.tx.hget(k.segmentIndex, b.id) : await this.tx.get(k.segment(b.key!))) !== null
      );
    if (kind === 'override' && b.id !== undefined) return (await this.tx.hget(k.overrideIndex, b.id)) !== null;
    if ((kind === 'apiToken' || kind === 'clientKey') && b.secretHash !== undefined) {
      return (await this.tx.hget(kind === 'apiToken' ? k.apiTokenSecrets : k.clientKeySecrets, b.secretHash)) !== null;
    }
    return (await this.find(kind, by)) !== null;
  }

  async insert<K extends RecordKind>(kind: K, record: StoredRecords[K]): Promise<void> {
    const k = this.keys;
    switch (kind) {
      case 'environment':
        return this.putEnvironment(record as Environment);
      case 'flag':
        return this.putFlag(record as Flag);
      case 'override': {
        const o = record as Override;
        const slug = (await this.tx.hget(k.environmentIndex, o.environmentId))!;
        const key = (await this.tx.hget(k.flagIndex, o.flagId))!;
        return this.putOverride(o, slug, key, true);
      }
      case 'segment':
        return this.putSegment(record as Segment);
      case 'apiToken':
      case 'clientKey': {
        const r = record as ApiToken | ClientKey;
        const token = kind === 'apiToken';
        this.tx.set(token ? k.apiToken(r.id) : k.clientKey(r.id), JSON.stringify(r));
        this.tx.hset(token ? k.apiTokenSecrets : k.clientKeySecrets, r.secretHash, r.id);
        this.tx.rpush(token ? k.apiTokens : k.clientKeys, r.id);
        return;
      }
      default: {
        const r = record as ChangeRequest;
        this.tx.set(k.changeRequest(r.id), JSON.stringify(r));
        this.tx.rpush(k.changeRequests, r.id);
      }
    }
  }

  async update<K extends RecordKind>(kind: K, existing: StoredRecords[K], next: StoredRecords[K]): Promise<void> {
    const k = this.keys;
    const tx = this.tx;
    switch (kind) {
      case 'environment': {
        const [before, after] = [existing as Environment, next as Environment];
        if (after.slug !== before.slug) {
          // The environment's overrides move with it: override:<old slug>:<flag> → override:<new slug>:<flag>.
          for (const flagId of await tx.smembers(k.environmentOverrides(before.id))) {
            const key = await tx.hget(k.flagIndex, flagId);
            if (key !== null) await this.move(k.override(before.slug, key), k.override(after.slug, key));
          }
          for (const key of (await tx.hgetall(k.flagIndex)).values()) tx.del(k.effective(before.slug, key));
          tx.del(k.environment(before.slug));
        }
        return this.putEnvironment(after);
      }
      case 'flag': {
        const [before, after] = [existing as Flag, next as Flag];
        if (after.key !== before.key) {
          // The flag's overrides move with it: override:<environment>:<old key> → override:<environment>:<new key>.
          for (const envId of await tx.smembers(k.flagOverrides(before.id))) {
            const slug = await tx.hget(k.environmentIndex, envId);
            if (slug !== null) await this.move(k.override(slug, before.key), k.override(slug, after.key));
          }
          for (const slug of (await tx.hgetall(k.environmentIndex)).values()) tx.del(k.effective(slug, before.key));
          tx.del(k.flag(before.key));
        }
        return this.putFlag(after);
      }
      case 'override': {
        const found = (await this.override({ id: existing.id }))!;
        return this.putOverride(next as Override, found.slug, found.key, false);
      }
      case 'segment':
        if ((next as Segment).key !== (existing as Segment).key) tx.del(k.segment((existing as Segment).key));
        return this.putSegment(next as Segment);
      case 'apiToken':
        return tx.set(k.apiToken(next.id), JSON.stringify(next));
      case 'clientKey':
        return tx.set(k.clientKey(next.id), JSON.stringify(next));
      default:
        return tx.set(k.changeRequest(next.id), JSON.stringify(next));
    }
  }

  async delete<K extends DeletableKind>(kind: K, record: StoredRecords[K]): Promise<number> {
    const k = this.keys;
    const tx = this.tx;
    if (kind === 'environment') {
      const env = record as Environment;
      let deleted = 0;
      for (const flagId of await tx.smembers(k.environmentOverrides(env.id))) {
        const flag = await this.flagByKey(await tx.hget(k.flagIndex, flagId));
        const raw = flag ? await tx.get(k.override(env.slug, flag.key)) : null;
        if (!raw) continue;
        this.removeOverride(decodeOverride(raw), env.slug, flag!.key);
        deleted++;
      }
      tx.del(k.environmentOverrides(env.id));
      tx.del(k.environment(env.slug));
      tx.hdel(k.environmentIndex, env.id);
      return deleted;
    }
    if (kind === 'flag') {
      const flag = record as Flag;
      let deleted = 0;
      for (const envId of await tx.smembers(k.flagOverrides(flag.id))) {
        const slug = await tx.hget(k.environmentIndex, envId);
        const raw = slug === null ? null : await tx.get(k.override(slug, flag.key));
        if (raw === null) continue;
        this.removeOverride(decodeOverride(raw), slug!, flag.key);
        deleted++;
      }
      tx.del(k.flagOverrides(flag.id));
      tx.del(k.flag(flag.key));
      tx.hdel(k.flagIndex, flag.id);
      return deleted;
    }
    if (kind === 'override') {
      const found = await this.override({ id: record.id });
      if (found) this.removeOverride(found.override, found.slug, found.key);
      return 0;
    }
    const segment = record as Segment;
    tx.del(k.segment(segment.key));
    tx.hdel(k.segmentIndex, segment.id);
    return 0;
  }

  emit(change: StorageChange): void {
    this.tx.change(change);
  }

  audit(event: AuditEventInput): void {
    this.tx.audit(event);
  }

  /** The base flag of a key (null: none, or no key). */
  async flagByKey(key: string | null): Promise<Flag | null> {
    if (key === null) return null;
    const raw = await this.tx.get(this.keys.flag(key));
    return raw ? decodeFlag(raw) : null;
  }

  /** An override (by id, or by environment and flag ids), with the slug and key that name its Redis key. */
  private async override(by: Lookup): Promise<Found | null> {
    let { environmentId: envId, flagId } = by;
    if (by.id !== undefined) {
      const pair = await this.tx.hget(this.keys.overrideIndex, by.id);
      if (pair === null) return null;
      [envId, flagId] = JSON.parse(pair) as [string, string];
    }
    const slug = await this.tx.hget(this.keys.environmentIndex, envId!);
    const key = slug === null ? null : await this.tx.hget(this.keys.flagIndex, flagId!);
    const raw = key === null ? null : await this.tx.get(this.keys.override(slug!, key));
    return raw ? { override: decodeOverride(raw), slug: slug!, key: key! } : null;
  }

  /** Moves a record from one key to another (renames). */
  private async move(from: string, to: string): Promise<void> {
    const raw = await this.tx.get(from);
    if (raw === null) return;
    this.tx.set(to, raw);
    this.tx.del(from);
  }

  private putEnvironment(env: Environment): void {
    this.tx.set(this.keys.environment(env.slug), JSON.stringify(env));
    this.tx.hset(this.keys.environmentIndex, env.id, env.slug);
  }

  private putFlag(flag: Flag): void {
    this.tx.set(this.keys.flag(flag.key), JSON.stringify(flag));
    this.tx.hset(this.keys.flagIndex, flag.id, flag.key);
  }

  private putSegment(segment: Segment): void {
    this.tx.set(this.keys.segment(segment.key), JSON.stringify(segment));
    this.tx.hset(this.keys.segmentIndex, segment.id, segment.key);
  }

  private putOverride(o: Override, slug: string, key: string, isNew: boolean): void {
    this.tx.set(this.keys.override(slug, key), JSON.stringify(o));
    if (!isNew) return;
    this.tx.hset(this.keys.overrideIndex, o.id, JSON.stringify([o.environmentId, o.flagId]));
    this.tx.sadd(this.keys.environmentOverrides(o.environmentId), o.flagId);
    this.tx.sadd(this.keys.flagOverrides(o.flagId), o.environmentId);
  }

  private removeOverride(o: Override, slug: string, key: string): void {
    this.tx.del(this.keys.override(slug, key));
    this.tx.hdel(this.keys.overrideIndex, o.id);
    this.tx.srem(this.keys.environmentOverrides(o.environmentId), o.flagId);
    this.tx.srem(this.keys.flagOverrides(o.flagId), o.environmentId);
  }
}
