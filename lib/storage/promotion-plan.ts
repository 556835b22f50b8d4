import { FlagSnapshot } from '../core/snapshot';
import { FeatureFlagsValidationError, NotFoundError, NothingToPromoteError } from '../core/errors';
import { ServedChange, promotedOverride, servedChanges, servedState } from '../core/promotion';
import { FlagRuleDefinition, FlagValue, FlagVariant, OverrideDefinition } from '../core/types';
import { Override } from './records';
import { FeatureFlagStorage, StorageWrite } from './feature-flag-storage.interface';

/** The overridable state of a flag in one environment: an override's fields. */
export interface OverrideState {
  enabled: boolean | null;
  percentage: number | null;
  rules: FlagRuleDefinition[] | null;
  value: FlagValue | null;
  variants: FlagVariant[] | null;
  reason: string | null;
}

/** What a promotion changed (or, with `dryRun`, would change). */
export interface PromotionResult {
  flagKey: string;
  from: string;
  to: string;
  /** The target's override before the promotion (null: it had none and inherited). */
  before: OverrideState | null;
  /** The target's override after it: every field `from` resolves, written explicitly. */
  after: OverrideState;
  /** Whether the target's override differs from what it was. */
  changed: boolean;
  /**
   * Every environment whose answers for the flag change (the target, and those inheriting a promoted
   * field from it), with its resolved fields and their sources before and after. Empty: nobody's answer
   * changes.
   */
  served: ServedChange[];
  dryRun: boolean;
  /** The version of the target's override before the promotion (null: none); the promotion applies only on it. */
  targetVersion: number | null;
}

/** A promotion computed, not applied: what it would change, and the storage writes that apply it. */
export interface PromotionPlan {
  from: string;
  to: string;
  /** One result per promoted flag (`dryRun: true`), sorted by flag key. */
  results: PromotionResult[];
  /**
   * The writes of the changed overrides (`flag-promoted` events), each bound to the version of the
   * target it was computed from: applied later (after an approval), a target changed meanwhile is refused
   * with VersionConflictError instead of being overwritten.
   */
  writes: StorageWrite[];
}

const FIELDS = ['enabled', 'percentage', 'rules', 'value', 'variants', 'reason'] as const;

function stateOf(o: OverrideDefinition): OverrideState {
  return {
    enabled: o.enabled,
    percentage: o.percentage,
    rules: o.rules,
    value: o.value,
    variants: o.variants ?? null,
    reason: o.reason ?? null,
  };
}

function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v as Record<string, unknown>)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

const stripRules = (rules: FlagRuleDefinition[] | null): unknown =>
  rules?.map(({ name, priority, enabled, conditions, serveEnabled, serveValue, rolloutPercentage }) => ({
    name: name ?? null,
    priority,
    enabled,
    conditions,
    serveEnabled,
    serveValue: serveValue ?? null,
    rolloutPercentage: rolloutPercentage ?? null,
  })) ?? null;

/**
 * Computes a promotion of `from` to `to` without applying it. Each promoted flag's target override is
 * written with every field `from` resolves along its own chain, explicitly: afterwards `to` serves exactly
 * what `from` served, for every context, and environments inheriting from `to` change only where they
 * inherit a promoted field (`served` lists each environment whose answers change).
 *
 * With `flags`, only those flags are promoted, and each must have an override in `from`. Without, every
 * flag `from` overrides, and every other flag that `to` serves differently from `from`.
 * @throws NotFoundError for an unknown flag or environment; NothingToPromoteError for a named flag
 * without an override in `from`; FeatureFlagsValidationError when `from` and `to` are the same, or when
 * `from` serves no value of a flag that `to` would inherit a value of.
 */
export async function planPromotion(
  storage: FeatureFlagStorage,
  from: string,
  to: string,
  options: { flags?: string[] } = {},
): Promise<PromotionPlan> {
  const data = await storage.loadSnapshot();
  const source = data.environments.find((e) => e.slug === from);
  if (!source) throw new NotFoundError('environment', from);
  const target = data.environments.find((e) => e.slug === to);
  if (!target) throw new NotFoundError('environment', to);
  if (source.id === target.id) throw new FeatureFlagsValidationError('to', `must differ from "from" ("${from}")`);
  const before = new FlagSnapshot(data);
  const sourceOverrides = new Map(
    data.overrides.filter((o) => o.environmentId === source.id).map((o) => [o.flagId, o]),
  );
  const targetOverrides = new Map(
    data.overrides.filter((o) => o.environmentId === target.id).map((o) => [o.flagId, o]),
  );
  let promoted: typeof data.flags;
  if (options.flags) {
    promoted = options.flags.map((key) => {
      const flag = before.getFlag(key);
      if (!flag) throw new NotFoundError('flag', key);
      if (!sourceOverrides.has(flag.id)) throw new NothingToPromoteError(key, source.slug);
      return flag;
    });
  } else {
    promoted = data.flags.filter(
      (f) =>
        sourceOverrides.has(f.id) ||
        servedState(f, before.resolve(f, source.slug)) !== servedState(f, before.resolve(f, target.slug)),
    );
  }
  const slugs = data.environments.map((e) => e.slug);
  const context = { eventType: 'flag-promoted', data: { from: source.slug, to: target.slug } };
  const results: PromotionResult[] = [];
  const writes: StorageWrite[] = [];
  for (const flag of [...promoted].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const existing = targetOverrides.get(flag.id) as Override | undefined;
    const after: OverrideState = {
      ...promotedOverride(before, flag, source.slug, target.slug),
      reason: sourceOverrides.get(flag.id)?.reason ?? null,
    };
    const beforeState = existing ? stateOf(existing) : null;
    const changed =
      beforeState === null ||
      FIELDS.some((f) =>
        f === 'rules'
          ? canonical(stripRules(beforeState.rules)) !== canonical(stripRules(after.rules))
          : canonical(beforeState[f]) !== canonical(after[f]),
      );
    const afterSnapshot = new FlagSnapshot({
      environments: data.environments,
      flags: [flag],
      overrides: [
        ...data.overrides.filter((o) => o.flagId === flag.id && o.environmentId !== target.id),
        { id: existing?.id ?? 'promoted', environmentId: target.id, flagId: flag.id, ...after },
      ],
      segments: [],
    });
    results.push({
      flagKey: flag.key,
      from: source.slug,
      to: target.slug,
      before: beforeState,
      after,
      changed,
      served: changed ? servedChanges(slugs, { snapshot: before, flag }, { snapshot: afterSnapshot, flag }) : [],
      dryRun: true,
      targetVersion: existing ? existing.version : null,
    });
    if (!changed) continue;
    writes.push(
      existing
        ? { op: 'updateOverride', update: { id: existing.id, version: existing.version, ...after }, context }
        : { op: 'createOverride', input: { environmentId: target.id, flagId: flag.id, ...after }, context },
    );
  }
  return { from: source.slug, to: target.slug, results, writes };
}
