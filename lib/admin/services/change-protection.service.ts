import { Inject, Injectable } from '@nestjs/common';
import { JsonValue } from '../../core/types';
import { ChangeRequest, Environment } from '../../storage/records';
import { FeatureFlagAdminStorage } from '../../storage/feature-flag-admin-storage.interface';
import { FeatureFlagStorage, StorageWrite, StorageWriteResult } from '../../storage/feature-flag-storage.interface';
import { accountableId } from '../auth/admin-principal';
import { BOOTSTRAP_PRINCIPAL } from '../auth/admin-auth.guard';
import { ConfirmationRequiredException, SetupTokenException } from '../http/admin.exceptions';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { isProtectedEnvironment, requiresApproval } from '../views/views';

/** A change the admin API is about to make, with what it touches. */
export interface PlannedChange {
  /** What it does, in a sentence (the change request's title). */
  title: string;
  flagKey: string | null;
  /** Every environment (to look protection up). */
  environments: Environment[];
  /** The environments it writes to directly (an override, the environment record). */
  direct: string[];
  /** The environments whose served state it changes (through inheritance or the base flag). */
  indirect: string[];
  /** The writes to apply now. */
  writes: StorageWrite[];
  /** The writes an approval applies later: the same, bound to the versions they were computed from. */
  deferredWrites?: StorageWrite[];
  /** What it changes, for the reviewer. */
  preview: JsonValue;
  /** It can only turn things off: a protected environment then needs a confirmation, never an approval. */
  killSwitch: boolean;
}

/** What became of a planned change: applied now, or waiting for approval. */
export type EnactedChange =
  | { status: 'applied'; results: StorageWriteResult[]; protectedEnvironments: string[] }
  | { status: 'pending'; changeRequest: ChangeRequest };

/** Who asks, and how. */
export interface ChangeRequester {
  principal: AdminPrincipal;
  confirm?: boolean;
  reason?: string | null;
}

/**
 * The protected-environment rules, in one place:
 * - a change that touches a protected environment (type `production`, `settings.protected` or
 *   `settings.requireApproval`), directly or through what it serves, needs `confirm: true` (428 otherwise);
 * - if one of them has `settings.requireApproval`, the change becomes a pending change request that
 *   another principal must approve (nothing is applied before);
 * - except a kill switch (a change that can only turn things off): confirmation only, applied at once.
 */
@Injectable()
export class ChangeProtection {
  constructor(
    @Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage,
    @Inject(FeatureFlagAdminStorage) private readonly admin: FeatureFlagAdminStorage,
  ) {}

  async enact(change: PlannedChange, requester: ChangeRequester): Promise<EnactedChange> {
    const bySlug = new Map(change.environments.map((e) => [e.slug, e]));
    const touched = [...new Set([...change.direct, ...change.indirect])].filter((slug) => bySlug.has(slug));
    const protectedEnvironments = touched.filter((slug) => isProtectedEnvironment(bySlug.get(slug)!));
    if (protectedEnvironments.length > 0 && requester.confirm !== true)
      throw new ConfirmationRequiredException(protectedEnvironments);
    const approvals = touched.filter((slug) => requiresApproval(bySlug.get(slug)!));
    const { principal, reason } = requester;
    if (approvals.length > 0 && !change.killSwitch) {
      if (principal === BOOTSTRAP_PRINCIPAL) throw new SetupTokenException('request');
      const changeRequest = await this.admin.createChangeRequest(
        {
          title: change.title,
          flagKey: change.flagKey,
          environments: approvals,
          writes: change.deferredWrites ?? change.writes,
          preview: change.preview,
          createdById: accountableId(principal),
        },
        { actor: principal.name, reason: reason ?? null, data: { principalId: principal.id } },
      );
      return { status: 'pending', changeRequest };
    }
    const results =
      change.writes.length === 0
        ? []
        : await this.storage.writeAll(change.writes, {
            actor: principal.name,
            reason: reason ?? null,
            data: {
              principalId: principal.id,
              ...(change.killSwitch && protectedEnvironments.length > 0 ? { killSwitch: true } : {}),
            },
          });
    return { status: 'applied', results, protectedEnvironments };
  }
}
