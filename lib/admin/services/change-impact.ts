import { FlagSnapshot } from '../../core/snapshot';
import { FeatureFlagsValidationError } from '../../core/errors';
import { Environment, Flag, Override } from '../../storage/records';
import { StorageWrite } from '../../storage/feature-flag-storage.interface';
import { buildFlag, buildOverride, mergeFlag, mergeOverride } from '../../storage/storage-records';
import { ruleView } from '../views/views';

/**
 * What a change does to what each environment serves, computed before it is applied: protection is about
 * what users get, so a change to the base flag or to a parent environment that changes what a protected
 * environment serves is a change to that environment.
 */

/** One flag's records: what the change starts from, or what it leads to. */
export interface FlagRecords {
  flag: Flag | null;
  overrides: Override[];
}

/**
 * What an environment serves of a flag, as a comparable string: `off` when nobody gets it (no flag, flag
 * not active, resolved off), else the resolved fields.
 */
function servedStates(environments: Environment[], records: FlagRecords): Map<string, string> {
  const states = new Map<string, string>();
  const { flag } = records;
  if (!flag || flag.status !== 'active') {
    for (const e of environments) states.set(e.slug, 'off');
    return states;
  }
  const snapshot = new FlagSnapshot({ environments, flags: [flag], overrides: records.overrides, segments: [] });
  for (const e of environments) {
    const r = snapshot.resolve(flag, e.slug);
    states.set(
      e.slug,
      r.enabled
        ? JSON.stringify({
            type: flag.type,
            percentage: r.percentage,
            rules: r.rules.map(ruleView),
            value: r.value,
            variants: r.variants ?? null,
          })
        : 'off',
    );
  }
  return states;
}

/** The environments whose served state differs between `before` and `after`, and those left serving nothing. */
export function servedChanges(
  environments: Environment[],
  before: FlagRecords,
  after: FlagRecords,
): { changed: string[]; offAfter: Set<string> } {
  const a = servedStates(environments, before);
  const b = servedStates(environments, after);
  const changed = environments.map((e) => e.slug).filter((slug) => a.get(slug) !== b.get(slug));
  return { changed, offAfter: new Set([...b].filter(([, state]) => state === 'off').map(([slug]) => slug)) };
}

/**
 * The records after `writes` (flag and override writes of one flag), computed with storage's own record
 * builders: invalid input is refused here exactly as storage would refuse it.
 */
export function simulateWrites(records: FlagRecords, writes: StorageWrite[]): FlagRecords {
  let flag = records.flag;
  let overrides = [...records.overrides];
  for (const w of writes) {
    switch (w.op) {
      case 'createFlag':
        flag = buildFlag(w.input);
        break;
      case 'updateFlag':
        if (flag) flag = mergeFlag(flag, w.update);
        break;
      case 'createOverride':
        overrides.push(buildOverride(w.input, flag?.type ?? 'boolean'));
        break;
      case 'updateOverride': {
        const u = w.update as Partial<Override>;
        const i = overrides.findIndex((o) =>
          u.id !== undefined ? o.id === u.id : o.environmentId === u.environmentId && o.flagId === u.flagId,
        );
        if (i >= 0) overrides[i] = mergeOverride(overrides[i], w.update, flag?.type ?? 'boolean');
        break;
      }
      case 'deleteOverride':
        overrides = overrides.filter((o) => !(o.environmentId === w.ref.envId && o.flagId === w.ref.flagId));
        break;
      default:
        throw new FeatureFlagsValidationError('writes', `cannot simulate "${w.op}"`);
    }
  }
  return { flag, overrides };
}

const OVERRIDE_FIELDS = ['percentage', 'rules', 'value', 'variants'] as const;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Whether a write can only turn things off (the kill switch): an override that sets `enabled: false` and
 * nothing else that serves (a reason may change), or a flag update that only archives or deactivates it,
 * or sets `defaultEnabled: false` (descriptive fields may change).
 */
export function turnsOffOnly(write: StorageWrite, records: FlagRecords): boolean {
  switch (write.op) {
    case 'createOverride':
      return (
        write.input.enabled === false &&
        OVERRIDE_FIELDS.every((f) => write.input[f] === undefined || write.input[f] === null)
      );
    case 'updateOverride': {
      const u = write.update as Partial<Override>;
      const existing = records.overrides.find((o) =>
        u.id !== undefined ? o.id === u.id : o.environmentId === u.environmentId && o.flagId === u.flagId,
      );
      return (
        u.enabled === false &&
        OVERRIDE_FIELDS.every((f) => u[f] === undefined || (existing !== undefined && same(u[f], existing[f])))
      );
    }
    case 'updateFlag': {
      const u = write.update as Partial<Flag>;
      const flag = records.flag;
      if (!flag) return false;
      const turnsOff = u.status === 'archived' || u.status === 'inactive' || u.defaultEnabled === false;
      const servingUnchanged = (['type', 'defaultValue', 'rules', 'variants'] as const).every(
        (f) => u[f] === undefined || same(u[f], f === 'rules' ? flag.rules.map(ruleView) : flag[f]),
      );
      const statusOk =
        u.status === undefined || u.status === 'archived' || u.status === 'inactive' || u.status === flag.status;
      const enabledOk =
        u.defaultEnabled === undefined || u.defaultEnabled === false || u.defaultEnabled === flag.defaultEnabled;
      return turnsOff && servingUnchanged && statusOk && enabledOk;
    }
    default:
      return false;
  }
}
