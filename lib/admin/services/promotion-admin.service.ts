import { Inject, Injectable } from '@nestjs/common';
import { JsonValue } from '../../core/types';
import { FeatureFlagsService, PromotionPlan, PromotionResult } from '../../feature-flags.service';
import { FeatureFlagStorage } from '../../storage/feature-flag-storage.interface';
import { Override } from '../../storage/records';
import { assertEnvironmentAccess } from '../auth/admin-principal';
import { PromoteFlagDto } from '../dto/flag.dto';
import { AdminResponse } from '../http/admin-responder';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { overrideView } from '../views/views';
import { ChangeProtection } from './change-protection.service';
import { FlagRecords, servedChanges, simulateWrites, turnsOffOnly } from './change-impact';
import { pending, planFlagChange } from './flag-change-plan';
import { environmentOf, loadFlagState } from './flag-records';

/**
 * Promotion through the admin API: one flag from one environment to another (`POST
 * /feature-flags/:key/promote`) or every flag of a plan (the environment routes), previewed or applied
 * through `ChangeProtection`.
 */
@Injectable()
export class PromotionAdminService {
  constructor(
    @Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage,
    private readonly flags: FeatureFlagsService,
    private readonly protection: ChangeProtection,
  ) {}

  /** `POST /feature-flags/:key/promote`: copies `from`'s override to `to`. */
  async promote(key: string, dto: PromoteFlagDto, principal: AdminPrincipal): Promise<AdminResponse> {
    assertEnvironmentAccess(principal, dto.from, 'read');
    assertEnvironmentAccess(principal, dto.to, 'change');
    const plan = await this.flags.planPromotion(dto.from, dto.to, { flags: [key] });
    const [result] = plan.results;
    if (dto.dryRun === true) return { status: 200, body: result };
    const state = await loadFlagState(this.storage, key);
    const target = environmentOf(state.environments, dto.to);
    const existing = state.overrides.find((o) => o.environmentId === target.id);
    const planned = planFlagChange(
      state,
      `Promote "${key}" from "${dto.from}" to "${dto.to}"`,
      [dto.to],
      plan.writes,
      undefined,
      {
        [dto.to]: existing ? overrideView(existing, dto.to) : null,
      },
    );
    // The reviewer sees what each environment will serve, not only the override written.
    planned.preview = {
      ...(planned.preview as Record<string, JsonValue>),
      served: JSON.parse(JSON.stringify(result.served)) as JsonValue,
    };
    const enacted = await this.protection.enact(planned, { principal, confirm: dto.confirm, reason: dto.reason });
    if (enacted.status === 'pending') return pending(enacted);
    return { status: 200, body: { ...result, dryRun: false } satisfies PromotionResult };
  }

  /** Applies (or previews) a promotion plan of several flags into one environment. */
  async promoteMany(
    plan: PromotionPlan,
    dto: { dryRun?: boolean; confirm?: boolean; reason?: string | null },
    principal: AdminPrincipal,
  ): Promise<AdminResponse> {
    const summary = (dryRun: boolean) => ({
      from: plan.from,
      to: plan.to,
      dryRun,
      changed: plan.results.filter((r) => r.changed).length,
      results: plan.results.map((r) => ({ ...r, dryRun })),
    });
    if (dto.dryRun === true || plan.writes.length === 0) return { status: 200, body: summary(dto.dryRun === true) };
    const environments = await this.storage.listEnvironments();
    const allOverrides = await this.storage.listOverrides();
    const flagsById = new Map((await this.storage.listFlags()).map((f) => [f.id, f]));
    const indirect = new Set<string>();
    let killSwitch = true;
    for (const write of plan.writes) {
      const flagId =
        write.op === 'createOverride'
          ? write.input.flagId
          : write.op === 'updateOverride'
            ? allOverrides.find((o) => o.id === (write.update as Override).id)?.flagId
            : undefined;
      const flag = flagId ? flagsById.get(flagId) : undefined;
      if (!flag) continue;
      const before: FlagRecords = { flag, overrides: allOverrides.filter((o) => o.flagId === flag.id) };
      servedChanges(environments, before, simulateWrites(before, [write])).changed.forEach((slug) =>
        indirect.add(slug),
      );
      killSwitch &&= turnsOffOnly(write, before);
    }
    const enacted = await this.protection.enact(
      {
        title: `Promote ${plan.writes.length} flag(s) from "${plan.from}" to "${plan.to}"`,
        flagKey: null,
        environments,
        direct: [plan.to],
        indirect: [...indirect],
        writes: plan.writes,
        preview: promotionPreview(plan.results.filter((r) => r.changed)),
        killSwitch,
      },
      { principal, confirm: dto.confirm, reason: dto.reason },
    );
    if (enacted.status === 'pending') return pending(enacted);
    return { status: 200, body: summary(false) };
  }
}

function promotionPreview(results: PromotionResult[]): JsonValue {
  return JSON.parse(
    JSON.stringify(
      results.map((r) => ({
        flagKey: r.flagKey,
        from: r.from,
        to: r.to,
        before: r.before,
        after: r.after,
        served: r.served,
      })),
    ),
  ) as JsonValue;
}
