import { VersionConflictError } from '../../core/errors';
import { JsonValue } from '../../core/types';
import { StorageWrite } from '../../storage/feature-flag-storage.interface';
import { canAccessEnvironment } from '../auth/admin-principal';
import { AdminResponse } from '../http/admin-responder';
import { etagOf } from '../http/if-match';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import {
  FlagWithOverridesView,
  flagInEnvironmentView,
  flagView,
  overrideView,
  pendingChangeView,
} from '../views/views';
import { EnactedChange, PlannedChange } from './change-protection.service';
import { FlagRecords, servedChanges, simulateWrites, turnsOffOnly } from './change-impact';
import { environmentOf, FlagState, Resolution } from './flag-records';

/**
 * What the flag routes share: the planned change of one flag (its writes and what they change where), the
 * answers they give (a flag in one environment, a flag with its overrides, a change waiting for approval)
 * and the check of an expected version.
 */

/** A planned change of one flag: its writes, and the environments whose served state they change. */
export function planFlagChange(
  state: FlagState,
  title: string,
  direct: string[],
  writes: StorageWrite[],
  deferred: StorageWrite[] | undefined,
  before: Record<string, unknown>,
): PlannedChange {
  const records: FlagRecords = { flag: state.flag, overrides: state.overrides };
  const after = simulateWrites(records, writes);
  const impact = servedChanges(state.environments, records, after);
  const afterView: Record<string, unknown> = {};
  for (const slug of Object.keys(before)) {
    if (slug === 'base') afterView.base = after.flag ? flagView(after.flag) : null;
    else {
      const env = environmentOf(state.environments, slug);
      const o = after.overrides.find((x) => x.environmentId === env.id);
      afterView[slug] = o ? overrideView(o, slug) : null;
    }
  }
  return {
    title,
    flagKey: state.flag.key,
    environments: state.environments,
    direct,
    indirect: impact.changed,
    writes,
    deferredWrites: deferred,
    preview: JSON.parse(JSON.stringify({ before, after: afterView, servedChangesIn: impact.changed })) as JsonValue,
    killSwitch: writes.every((w) => turnsOffOnly(w, records)),
  };
}

/** The flag as `slug` serves it; `changed` is said by the answers to writes. */
export function inEnvironment(state: FlagState, slug: string, status: number, changed?: boolean): AdminResponse {
  const env = environmentOf(state.environments, slug);
  const resolved = new Resolution(state.environments, [state.flag], state.overrides).resolve(state.flag, env.slug);
  const override = state.overrides.find((o) => o.environmentId === env.id);
  const view = flagInEnvironmentView(state.flag, resolved, override);
  return { status, body: changed === undefined ? view : { ...view, changed }, etag: etagOf(override?.version ?? 0) };
}

export function withOverrides(state: FlagState, principal: AdminPrincipal): FlagWithOverridesView {
  const overrides: FlagWithOverridesView['overrides'] = {};
  for (const o of state.overrides) {
    const env = state.environments.find((e) => e.id === o.environmentId);
    if (env && canAccessEnvironment(principal, env.slug)) overrides[env.slug] = overrideView(o, env.slug);
  }
  return { flag: flagView(state.flag), overrides };
}

/** Refuses a write whose expected version is not the current one (0: the record does not exist). */
export function checkVersion(identifier: string, expected: number | undefined, actual: number): void {
  if (expected !== undefined && expected !== actual) {
    throw new VersionConflictError(identifier.includes('@') ? 'override' : 'flag', identifier, expected, actual);
  }
}

/** The answer to a change that now waits for approval. */
export function pending(enacted: Extract<EnactedChange, { status: 'pending' }>): AdminResponse {
  return { status: 202, body: pendingChangeView(enacted.changeRequest) };
}
