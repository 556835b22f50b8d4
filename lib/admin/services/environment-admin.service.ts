import { Inject, Injectable } from '@nestjs/common';
import { FeatureFlagsValidationError, VersionConflictError } from '../../core/errors';
import { JsonValue, OVERRIDABLE_FIELDS } from '../../core/types';
import { Environment } from '../../storage/records';
import { FeatureFlagsService } from '../../feature-flags.service';
import { EnvironmentUpdate, FeatureFlagStorage, StorageWrite } from '../../storage/feature-flag-storage.interface';
import { assertEnvironmentAccess, canAccessEnvironment } from '../auth/admin-principal';
import {
  CloneEnvironmentDto,
  CompareQueryDto,
  CreateEnvironmentDto,
  ENVIRONMENT_FIELDS,
  PromoteEnvironmentDto,
  UpdateEnvironmentDto,
} from '../dto/environment.dto';
import { AdminResponse } from '../http/admin-responder';
import { etagOf, expectedVersion } from '../http/if-match';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { environmentView, isProtectedEnvironment, pendingChangeView, ruleView } from '../views/views';
import { ChangeProtection } from './change-protection.service';
import { PromotionAdminService } from './promotion-admin.service';
import { environmentOf, Resolution } from './flag-records';

/** Known settings keys must have the right type (the rest is free-form). */
function checkSettings(settings: Record<string, unknown> | undefined): void {
  if (!settings) return;
  for (const key of ['requireApproval', 'protected', 'defaultEnabled']) {
    if (settings[key] !== undefined && typeof settings[key] !== 'boolean')
      throw new FeatureFlagsValidationError(`settings.${key}`, 'must be a boolean');
  }
}

/** The environments under `root` (not included), by parent links. */
function descendants(all: Environment[], root: Environment): Environment[] {
  const out: Environment[] = [];
  const queue = [root.id];
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const e of all) {
      if (e.parentId === id && !out.includes(e)) {
        out.push(e);
        queue.push(e.id);
      }
    }
  }
  return out;
}

/** The environment routes' logic. */
@Injectable()
export class EnvironmentAdminService {
  constructor(
    @Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage,
    private readonly flags: FeatureFlagsService,
    private readonly promotion: PromotionAdminService,
    private readonly protection: ChangeProtection,
  ) {}

  /** `GET /environments`: the ones the caller may read. */
  async list(principal: AdminPrincipal): Promise<AdminResponse> {
    const all = await this.storage.listEnvironments();
    const items = all.filter((e) => canAccessEnvironment(principal, e.slug)).map((e) => environmentView(e, all));
    return { status: 200, body: { items } };
  }

  /** `GET /environments/:slug`. */
  async get(slug: string, principal: AdminPrincipal): Promise<AdminResponse> {
    assertEnvironmentAccess(principal, slug, 'read');
    const all = await this.storage.listEnvironments();
    const env = environmentOf(all, slug);
    return { status: 200, body: environmentView(env, all), etag: etagOf(env.version) };
  }

  /** `GET /environments/:slug/chain`: the environment and those it inherits from, nearest first. */
  async chain(slug: string, principal: AdminPrincipal): Promise<AdminResponse> {
    assertEnvironmentAccess(principal, slug, 'read');
    const all = await this.storage.listEnvironments();
    const chain: Environment[] = [];
    for (
      let cur: Environment | undefined = environmentOf(all, slug);
      cur && !chain.includes(cur);
      cur = all.find((e) => e.id === cur!.parentId)
    )
      chain.push(cur);
    return { status: 200, body: { environment: slug, chain: chain.map((e) => environmentView(e, all)) } };
  }

  /** `POST /environments` (a token for every environment: a new one is outside every scope). */
  async create(dto: CreateEnvironmentDto, principal: AdminPrincipal): Promise<AdminResponse> {
    checkSettings(dto.settings);
    const all = await this.storage.listEnvironments();
    const parentId = dto.parent ? environmentOf(all, dto.parent).id : null;
    const env = await this.storage.createEnvironment(
      {
        slug: dto.slug,
        name: dto.name,
        description: dto.description ?? null,
        parentId,
        type: dto.type,
        settings: dto.settings,
        isActive: dto.isActive,
      },
      { actor: principal.name, reason: dto.reason ?? null, data: { principalId: principal.id } },
    );
    return { status: 201, body: environmentView(env, [...all, env]), etag: etagOf(env.version) };
  }

  /** `PATCH /environments/:slug`: a protected environment needs confirmation (and approval). */
  async update(
    slug: string,
    dto: UpdateEnvironmentDto,
    ifMatch: string | undefined,
    principal: AdminPrincipal,
  ): Promise<AdminResponse> {
    // Input first (400), then who asks (403) and what exists (404).
    if (!ENVIRONMENT_FIELDS.some((field) => dto[field] !== undefined)) {
      throw new FeatureFlagsValidationError(
        'body',
        `names nothing to change: send one of ${ENVIRONMENT_FIELDS.join(', ')}`,
      );
    }
    checkSettings(dto.settings);
    assertEnvironmentAccess(principal, slug, 'change');
    const version = expectedVersion(ifMatch, dto.version);
    const all = await this.storage.listEnvironments();
    const env = environmentOf(all, slug);
    if (version !== undefined && version !== env.version)
      throw new VersionConflictError('environment', slug, version, env.version);
    const update: Record<string, unknown> = { id: env.id };
    for (const field of ['name', 'description', 'type', 'settings', 'isActive'] as const)
      if (dto[field] !== undefined) update[field] = dto[field];
    if (dto.parent !== undefined) update.parentId = dto.parent === null ? null : environmentOf(all, dto.parent).id;
    const write: StorageWrite = {
      op: 'updateEnvironment',
      update: { ...update, ...(version !== undefined ? { version } : {}) } as EnvironmentUpdate,
    };
    const deferred: StorageWrite = {
      op: 'updateEnvironment',
      update: { ...update, version: env.version } as EnvironmentUpdate,
    };
    const enacted = await this.protection.enact(
      {
        title: `Change environment "${slug}"`,
        flagKey: null,
        environments: all,
        // What inherits from it may change too: its protected descendants count.
        direct: [
          slug,
          ...descendants(all, env)
            .filter(isProtectedEnvironment)
            .map((e) => e.slug),
        ],
        indirect: [],
        writes: [write],
        deferredWrites: [deferred],
        preview: JSON.parse(
          JSON.stringify({ before: environmentView(env, all), changes: { ...update, id: undefined } }),
        ) as JsonValue,
        killSwitch: false,
      },
      { principal, confirm: dto.confirm, reason: dto.reason },
    );
    if (enacted.status === 'pending') return { status: 202, body: pendingChangeView(enacted.changeRequest) };
    const next = enacted.results[0] as Environment;
    const after = await this.storage.listEnvironments();
    return { status: 200, body: environmentView(next, after), etag: etagOf(next.version) };
  }

  /** `DELETE /environments/:slug`: refused while others inherit from it (409). */
  async delete(
    slug: string,
    confirm: boolean | undefined,
    reason: string | undefined,
    principal: AdminPrincipal,
  ): Promise<AdminResponse> {
    assertEnvironmentAccess(principal, slug, 'change');
    const all = await this.storage.listEnvironments();
    const env = environmentOf(all, slug);
    const enacted = await this.protection.enact(
      {
        title: `Delete environment "${slug}"`,
        flagKey: null,
        environments: all,
        direct: [slug],
        indirect: [],
        writes: [{ op: 'deleteEnvironment', slug }],
        preview: JSON.parse(JSON.stringify({ before: environmentView(env, all), after: null })) as JsonValue,
        killSwitch: false,
      },
      { principal, confirm, reason },
    );
    if (enacted.status === 'pending') return { status: 202, body: pendingChangeView(enacted.changeRequest) };
    return { status: 204, body: undefined };
  }

  /** `POST /environments/:slug/clone`: a new environment with a copy of every override (one transaction). */
  async clone(source: string, dto: CloneEnvironmentDto, principal: AdminPrincipal): Promise<AdminResponse> {
    checkSettings(dto.settings);
    const all = await this.storage.listEnvironments();
    const from = environmentOf(all, source);
    const parentId =
      dto.parent === undefined ? from.parentId : dto.parent === null ? null : environmentOf(all, dto.parent).id;
    const { environment, overrides } = await this.storage.cloneEnvironment(
      source,
      {
        slug: dto.slug,
        name: dto.name,
        description: dto.description ?? from.description,
        type: dto.type ?? from.type,
        parentId,
        settings: dto.settings ?? from.settings,
        isActive: from.isActive,
      },
      { actor: principal.name, reason: dto.reason ?? null, data: { principalId: principal.id } },
    );
    const flags = new Map((await this.storage.listFlags()).map((f) => [f.id, f.key]));
    return {
      status: 201,
      body: {
        environment: environmentView(environment, [...all, environment]),
        clonedFrom: source,
        overrides: overrides.map((o) => flags.get(o.flagId)).sort(),
      },
      etag: etagOf(environment.version),
    };
  }

  /** `POST /environments/:slug/promote`: promotes every override of the environment (dry run first). */
  async promote(source: string, dto: PromoteEnvironmentDto, principal: AdminPrincipal): Promise<AdminResponse> {
    assertEnvironmentAccess(principal, source, 'read');
    assertEnvironmentAccess(principal, dto.to, dto.dryRun === true ? 'read' : 'change');
    const plan = await this.flags.planPromotion(source, dto.to, dto.flags ? { flags: dto.flags } : {});
    return this.promotion.promoteMany(plan, dto, principal);
  }

  /** `GET /environments/:slug/compare/:other`: what each flag serves in both, and which fields differ. */
  async compare(
    slug: string,
    other: string,
    query: CompareQueryDto,
    principal: AdminPrincipal,
  ): Promise<AdminResponse> {
    assertEnvironmentAccess(principal, slug, 'read');
    assertEnvironmentAccess(principal, other, 'read');
    const [environments, flags, overrides] = await Promise.all([
      this.storage.listEnvironments(),
      this.storage.listFlags(),
      this.storage.listOverrides(),
    ]);
    const a = environmentOf(environments, slug);
    const b = environmentOf(environments, other);
    const resolution = new Resolution(environments, flags, overrides);
    const rows = flags.map((flag) => {
      const side = (env: Environment) => {
        const r = resolution.resolve(flag, env.slug);
        return {
          enabled: r.enabled,
          percentage: r.percentage,
          rules: r.rules.map(ruleView),
          value: r.value,
          variants: r.variants ?? null,
          sources: r.sources,
        };
      };
      const x = side(a);
      const y = side(b);
      const differences = OVERRIDABLE_FIELDS.filter((f) => JSON.stringify(x[f]) !== JSON.stringify(y[f]));
      return { key: flag.key, status: flag.status, [slug]: x, [other]: y, differences };
    });
    const listed = query.onlyDifferences ? rows.filter((r) => r.differences.length > 0) : rows;
    return {
      status: 200,
      body: {
        from: slug,
        to: other,
        summary: { flags: rows.length, different: rows.filter((r) => r.differences.length > 0).length },
        flags: listed,
      },
    };
  }
}
