import { FlagSnapshot } from '../../core/snapshot';
import { Flag, Override } from '../records';
import { decodeOverride } from './codec';
import { effectiveState } from './effective-state';
import { RedisRecords } from './redis-records';

/**
 * Writing the effective states (`flags:<environment>:<flag>`, see `EffectiveFlagState`) within a write's
 * commit: those the write's changes affect, after every write, and all of them once when a store written
 * by an earlier version is brought to the current key layout.
 */

/**
 * Rewrites `flags:<environment>:<flag>` — the effective state — of every (environment, flag) the
 * transaction's changes affect: a flag's in every environment, an override's in its environment and those
 * inheriting from it, an environment's (created, re-parented, its defaults changed) for every flag in it
 * and below; deleted flags and environments lose theirs. Reads are guards, as every read of a write.
 */
export async function refreshEffectiveStates(records: RedisRecords): Promise<void> {
  const { tx, keys } = records;
  if (tx.changes.length === 0) return;
  const envs = await records.environments();
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
      else for (const e of envs) tx.del(keys.effective(e.slug, c.key));
    } else if (c.kind === 'environment') {
      if (c.op === 'upsert') subtree(c.environment.id).forEach((id) => everyFlagIn.add(id));
      else for (const key of (await tx.hgetall(keys.flagIndex)).values()) tx.del(keys.effective(c.slug, key));
    } else if (c.kind === 'override') {
      const envId = c.op === 'upsert' ? c.override.environmentId : c.environmentId;
      const flagId = c.op === 'upsert' ? c.override.flagId : c.flagId;
      const envIds = some.get(flagId) ?? new Set<string>();
      subtree(envId).forEach((id) => envIds.add(id));
      some.set(flagId, envIds);
    }
  }
  if (everyFlagIn.size === 0 && everyEnvironmentOf.size === 0 && some.size === 0) return;
  let flags: Flag[];
  let overrides: Override[];
  if (everyFlagIn.size > 0) ({ flags, overrides } = await records.flagsAndOverrides(envs));
  else {
    const ids = [...new Set([...everyEnvironmentOf, ...some.keys()])];
    flags = (await Promise.all(ids.map(async (id) => records.flagByKey(await tx.hget(keys.flagIndex, id))))).filter(
      (f): f is Flag => f !== null,
    );
    overrides = [];
    for (const f of flags) {
      const raws = await tx.mget(envs.map((e) => keys.override(e.slug, f.key)));
      for (const raw of raws) if (raw !== null) overrides.push(decodeOverride(raw));
    }
  }
  const snapshot = new FlagSnapshot({ environments: envs, flags, overrides, segments: [] });
  const flagsById = new Map(flags.map((f) => [f.id, f]));
  const put = (envId: string, flag: Flag | undefined): void => {
    const env = byId.get(envId);
    if (!env || !flag) return;
    tx.set(keys.effective(env.slug, flag.key), JSON.stringify(effectiveState(snapshot.resolve(flag, env.slug))));
  };
  for (const envId of everyFlagIn) for (const f of flags) put(envId, f);
  for (const flagId of everyEnvironmentOf)
    for (const e of envs) if (!everyFlagIn.has(e.id)) put(e.id, flagsById.get(flagId));
  for (const [flagId, envIds] of some)
    for (const envId of envIds)
      if (!everyFlagIn.has(envId) && !everyEnvironmentOf.has(flagId)) put(envId, flagsById.get(flagId));
}

/**
 * Brings a store written by an earlier version to the key layout `layout`, once: its overrides move from
 * `flags:<environment>:<flag>` to `override:<environment>:<flag>`, and `flags:` keys get the effective
 * states. It moves no revision: nothing served changes.
 */
export async function upgradeLayout(records: RedisRecords, layout: string): Promise<void> {
  const { tx, keys } = records;
  if ((await tx.get(keys.layout)) === layout) return;
  const envs = await records.environments();
  const slugOf = new Map(envs.map((e) => [e.id, e.slug]));
  const keyOf = await tx.hgetall(keys.flagIndex);
  for (const pair of (await tx.hgetall(keys.overrideIndex)).values()) {
    const [envId, flagId] = JSON.parse(pair) as [string, string];
    const slug = slugOf.get(envId);
    const key = keyOf.get(flagId);
    if (slug === undefined || key === undefined || (await tx.get(keys.override(slug, key))) !== null) continue;
    const old = await tx.get(keys.effective(slug, key));
    if (old !== null && 'environmentId' in (JSON.parse(old) as object)) tx.set(keys.override(slug, key), old);
  }
  const { flags, overrides } = await records.flagsAndOverrides(envs);
  const snapshot = new FlagSnapshot({ environments: envs, flags, overrides, segments: [] });
  for (const env of envs)
    for (const flag of flags)
      tx.set(keys.effective(env.slug, flag.key), JSON.stringify(effectiveState(snapshot.resolve(flag, env.slug))));
  tx.set(keys.layout, layout);
}
