import { Inject, Injectable } from '@nestjs/common';
import { AlreadyExistsError, FeatureFlagsValidationError, NotFoundError } from '../../core/errors';
import { FlagStatus, JsonValue } from '../../core/types';
import { Flag, Override } from '../../storage/records';
import {
  FeatureFlagStorage,
  FlagUpdate,
  OverrideUpdate,
  StorageWrite,
} from '../../storage/feature-flag-storage.interface';
import { mergeFlag, mergeOverride, unchangedFlag, unchangedOverride } from '../../storage/storage-records';
import { assertAllEnvironments, assertEnvironmentAccess } from '../auth/admin-principal';
import {
  BASE_ONLY_FIELDS,
  CreateFlagDto,
  FlagActionDto,
  ListFlagsQueryDto,
  OVERRIDE_FIELDS,
  PatchFlagDto,
} from '../dto/flag.dto';
import { FlagNotArchivedError } from '../http/admin.exceptions';
import { AdminResponse } from '../http/admin-responder';
import { etagOf, expectedVersion } from '../http/if-match';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { flagView, overrideView } from '../views/views';
import { ChangeProtection } from './change-protection.service';
import { FlagRecords, servedChanges, simulateWrites } from './change-impact';
import { checkVersion, inEnvironment, pending, planFlagChange, withOverrides } from './flag-change-plan';
import { environmentOf, loadFlagState, Resolution } from './flag-records';

/** How many times a write that raced a concurrent create is retried on top of it. */
const CREATE_RACE_ATTEMPTS = 3;

/**
 * The flag routes' logic: reads resolve from storage (fresh, whatever instance wrote last); writes go
 * through `ChangeProtection` and storage, with the caller as the actor of their audit events.
 */
@Injectable()
export class FlagAdminService {
  constructor(
    @Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage,
    private readonly protection: ChangeProtection,
  ) {}

  /** `GET /feature-flags/:key[?env=]`. */
  async get(key: string, env: string | undefined, principal: AdminPrincipal): Promise<AdminResponse> {
    const state = await loadFlagState(this.storage, key);
    if (env !== undefined) {
      assertEnvironmentAccess(principal, env, 'read');
      return inEnvironment(state, env, 200);
    }
    return { status: 200, body: withOverrides(state, principal), etag: etagOf(state.flag.version) };
  }

  /** `GET /feature-flags`. */
  async list(query: ListFlagsQueryDto, principal: AdminPrincipal): Promise<AdminResponse> {
    const status: FlagStatus[] | undefined =
      query.status === 'all' ? undefined : query.status ? [query.status] : ['active', 'inactive'];
    const all = await this.storage.listFlags({ status, tag: query.tag, search: query.search });
    const limit = query.limit ?? 100;
    const offset = query.offset ?? 0;
    const page = all.slice(offset, offset + limit);
    let items: unknown[] = page.map(flagView);
    if (query.env !== undefined) {
      assertEnvironmentAccess(principal, query.env, 'read');
      const environments = await this.storage.listEnvironments();
      const env = environmentOf(environments, query.env);
      const overrides = (await this.storage.listOverrides()).filter((o) => page.some((f) => f.id === o.flagId));
      const resolution = new Resolution(environments, page, overrides);
      items = page.map((f) => {
        const r = resolution.resolve(f, env.slug);
        return {
          ...flagView(f),
          resolved: {
            environment: env.slug,
            enabled: r.enabled,
            percentage: r.percentage,
            value: r.value,
            sources: r.sources,
          },
        };
      });
    }
    return { status: 200, body: { items, total: all.length, limit, offset } };
  }

  /** `POST /feature-flags`. */
  async create(dto: CreateFlagDto, principal: AdminPrincipal): Promise<AdminResponse> {
    assertAllEnvironments(principal, 'A new flag');
    const { reason, confirm, ...input } = dto;
    const environments = await this.storage.listEnvironments();
    const write: StorageWrite = { op: 'createFlag', input: input as never };
    const before: FlagRecords = { flag: null, overrides: [] };
    const after = simulateWrites(before, [write]);
    const impact = servedChanges(environments, before, after);
    const enacted = await this.protection.enact(
      {
        title: `Create flag "${dto.key}"`,
        flagKey: dto.key,
        environments,
        direct: [],
        indirect: impact.changed,
        writes: [write],
        preview: { before: null, after: JSON.parse(JSON.stringify(flagView(after.flag!))) as JsonValue },
        killSwitch: false,
      },
      { principal, confirm, reason },
    );
    if (enacted.status === 'pending') return pending(enacted);
    const flag = enacted.results[0] as Flag;
    return { status: 201, body: flagView(flag), etag: etagOf(flag.version) };
  }

  /** `PATCH /feature-flags/:key`: an environment's override with `environment`, else the base flag. */
  async patch(
    key: string,
    dto: PatchFlagDto,
    ifMatch: string | undefined,
    principal: AdminPrincipal,
  ): Promise<AdminResponse> {
    const version = expectedVersion(ifMatch, dto.version);
    if (dto.environment !== undefined && dto.environment !== null)
      return this.patchOverride(key, dto.environment, dto, version, principal);
    return this.patchBase(key, dto, version, principal);
  }

  private async patchOverride(
    key: string,
    slug: string,
    dto: PatchFlagDto,
    version: number | undefined,
    principal: AdminPrincipal,
  ): Promise<AdminResponse> {
    for (const field of BASE_ONLY_FIELDS) {
      if (dto[field] !== undefined)
        throw new FeatureFlagsValidationError(field, 'belongs to the base flag: send it without "environment"');
    }
    const fields: Record<string, unknown> = {};
    for (const field of OVERRIDE_FIELDS) if (dto[field] !== undefined) fields[field] = dto[field];
    if (Object.keys(fields).length === 0 && dto.reason === undefined) {
      throw new FeatureFlagsValidationError(
        'body',
        `names nothing to change: send one of ${OVERRIDE_FIELDS.join(', ')}, reason`,
      );
    }
    if (dto.reason !== undefined) fields.reason = dto.reason;
    assertEnvironmentAccess(principal, slug, 'change');
    for (let attempt = 1; ; attempt++) {
      const state = await loadFlagState(this.storage, key);
      const env = environmentOf(state.environments, slug);
      const existing = state.overrides.find((o) => o.environmentId === env.id);
      checkVersion(`${key}@${slug}`, version, existing?.version ?? 0);
      const write: StorageWrite = existing
        ? {
            op: 'updateOverride',
            update: {
              id: existing.id,
              ...(version !== undefined ? { version } : {}),
              ...fields,
            } as OverrideUpdate,
          }
        : { op: 'createOverride', input: { environmentId: env.id, flagId: state.flag.id, ...fields } };
      // A write that changes nothing is not a change: no protection, no event, the version stays.
      if (
        existing &&
        write.op === 'updateOverride' &&
        unchangedOverride(existing, mergeOverride(existing, write.update, state.flag.type))
      ) {
        return inEnvironment(state, slug, 200, false);
      }
      const deferred: StorageWrite =
        write.op === 'updateOverride'
          ? { op: 'updateOverride', update: { ...write.update, version: existing!.version } }
          : write;
      try {
        const enacted = await this.protection.enact(
          planFlagChange(
            state,
            `Change "${key}" in "${slug}"`,
            [slug],
            [write],
            [deferred],
            existing ? { [slug]: overrideView(existing, slug) } : { [slug]: null },
          ),
          { principal, confirm: dto.confirm, reason: dto.reason },
        );
        if (enacted.status === 'pending') return pending(enacted);
        // The answer describes this write (what a concurrent writer did next is not ours to report).
        const written = enacted.results[0] as Override;
        return inEnvironment(
          { ...state, overrides: [...state.overrides.filter((o) => o.environmentId !== env.id), written] },
          slug,
          200,
          !existing || written.version !== existing.version,
        );
      } catch (e) {
        // Created by someone else meanwhile: without If-Match, apply on top of it.
        if (e instanceof AlreadyExistsError && !existing && version === undefined && attempt < CREATE_RACE_ATTEMPTS)
          continue;
        throw e;
      }
    }
  }

  private async patchBase(
    key: string,
    dto: PatchFlagDto,
    version: number | undefined,
    principal: AdminPrincipal,
  ): Promise<AdminResponse> {
    if (dto.percentage !== undefined)
      throw new FeatureFlagsValidationError('percentage', 'exists only per environment: name the "environment"');
    if (dto.enabled === null)
      throw new FeatureFlagsValidationError(
        'enabled',
        'must be true or false for the base flag (null means "inherit", for environments)',
      );
    // Input first (400), then who asks (403) and what exists (404).
    if (
      !['enabled', 'value', 'rules', 'variants', ...BASE_ONLY_FIELDS].some(
        (field) => dto[field as keyof PatchFlagDto] !== undefined,
      )
    ) {
      throw new FeatureFlagsValidationError(
        'body',
        'names nothing to change: send one of enabled, value, rules, variants, name, description, tags, metadata (or an environment)',
      );
    }
    assertAllEnvironments(principal, 'A change to the base flag');
    const state = await loadFlagState(this.storage, key);
    checkVersion(key, version, state.flag.version);
    const changes: Record<string, unknown> = {};
    if (dto.enabled !== undefined) changes.defaultEnabled = dto.enabled;
    if (dto.value !== undefined) changes.defaultValue = dto.value;
    if (dto.rules !== undefined) changes.rules = dto.rules ?? [];
    if (dto.variants !== undefined) changes.variants = dto.variants;
    for (const field of BASE_ONLY_FIELDS) if (dto[field] !== undefined) changes[field] = dto[field];
    const write: StorageWrite = {
      op: 'updateFlag',
      update: { id: state.flag.id, ...(version !== undefined ? { version } : {}), ...changes } as FlagUpdate,
    };
    if (unchangedFlag(state.flag, mergeFlag(state.flag, write.update))) {
      return {
        status: 200,
        body: { ...withOverrides(state, principal), changed: false },
        etag: etagOf(state.flag.version),
      };
    }
    const deferred: StorageWrite = {
      op: 'updateFlag',
      update: { ...(write.update as FlagUpdate), version: state.flag.version } as FlagUpdate,
    };
    const enacted = await this.protection.enact(
      planFlagChange(state, `Change the base definition of "${key}"`, [], [write], [deferred], {
        base: flagView(state.flag),
      }),
      {
        principal,
        confirm: dto.confirm,
        reason: dto.reason,
      },
    );
    if (enacted.status === 'pending') return pending(enacted);
    const flag = enacted.results[0] as Flag;
    return {
      status: 200,
      body: { ...withOverrides({ ...state, flag }, principal), changed: flag.version !== state.flag.version },
      etag: etagOf(flag.version),
    };
  }

  /** `DELETE /feature-flags/:key/environments/:slug`: the environment inherits the flag again. */
  async removeOverride(
    key: string,
    slug: string,
    confirm: boolean | undefined,
    reason: string | undefined,
    ifMatch: string | undefined,
    principal: AdminPrincipal,
  ): Promise<AdminResponse> {
    const version = expectedVersion(ifMatch, undefined);
    assertEnvironmentAccess(principal, slug, 'change');
    const state = await loadFlagState(this.storage, key);
    const env = environmentOf(state.environments, slug);
    const existing = state.overrides.find((o) => o.environmentId === env.id);
    if (!existing) throw new NotFoundError('override', `${key}@${slug}`);
    checkVersion(`${key}@${slug}`, version, existing.version);
    const write: StorageWrite = { op: 'deleteOverride', ref: { envId: env.id, flagId: state.flag.id } };
    const enacted = await this.protection.enact(
      planFlagChange(
        state,
        `Remove the override of "${key}" in "${slug}" (inherit again)`,
        [slug],
        [write],
        undefined,
        {
          [slug]: overrideView(existing, slug),
        },
      ),
      {
        principal,
        confirm,
        reason,
      },
    );
    if (enacted.status === 'pending') return pending(enacted);
    return inEnvironment({ ...state, overrides: state.overrides.filter((o) => o.id !== existing.id) }, slug, 200);
  }

  /** `POST /feature-flags/:key/archive` and `/restore`. */
  async setStatus(
    key: string,
    status: 'archived' | 'active',
    dto: FlagActionDto,
    principal: AdminPrincipal,
  ): Promise<AdminResponse> {
    assertAllEnvironments(principal, status === 'archived' ? 'Archiving a flag' : 'Restoring a flag');
    const state = await loadFlagState(this.storage, key);
    if (state.flag.status !== status) {
      const write: StorageWrite = { op: 'updateFlag', update: { id: state.flag.id, status } };
      const deferred: StorageWrite = {
        op: 'updateFlag',
        update: { id: state.flag.id, status, version: state.flag.version },
      };
      const enacted = await this.protection.enact(
        planFlagChange(state, `${status === 'archived' ? 'Archive' : 'Restore'} "${key}"`, [], [write], [deferred], {
          base: { status: state.flag.status },
        }),
        { principal, confirm: dto.confirm, reason: dto.reason },
      );
      if (enacted.status === 'pending') return pending(enacted);
      const flag = enacted.results[0] as Flag;
      return { status: 200, body: flagView(flag), etag: etagOf(flag.version) };
    }
    return { status: 200, body: flagView(state.flag), etag: etagOf(state.flag.version) };
  }

  /** `DELETE /feature-flags/:key`: only an archived flag (it serves nothing anywhere). */
  async delete(key: string, reason: string | undefined, principal: AdminPrincipal): Promise<AdminResponse> {
    assertAllEnvironments(principal, 'Deleting a flag');
    const flag = await this.storage.getFlag(key);
    if (!flag) throw new NotFoundError('flag', key);
    if (flag.status !== 'archived') throw new FlagNotArchivedError(key);
    await this.storage.deleteFlag(key, {
      actor: principal.name,
      reason: reason ?? null,
      data: { principalId: principal.id },
    });
    return { status: 204, body: undefined };
  }
}
