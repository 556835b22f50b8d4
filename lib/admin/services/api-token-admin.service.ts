import { Inject, Injectable } from '@nestjs/common';
import { FeatureFlagsValidationError } from '../../core/errors';
import { FeatureFlagAdminStorage } from '../../storage/feature-flag-admin-storage.interface';
import { FeatureFlagStorage } from '../../storage/feature-flag-storage.interface';
import { accountableId, isApiTokenPrincipal } from '../auth/admin-principal';
import { generateApiTokenSecret, hashApiTokenSecret, SECRET_HINT_LENGTH } from '../auth/api-token-secret';
import { CreateApiTokenDto } from '../dto/admin.dto';
import { AdminResponse } from '../http/admin-responder';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { apiTokenView } from '../views/views';
import { environmentOf } from './flag-records';

/** The API token routes' logic (all of them need an admin token for every environment). */
@Injectable()
export class ApiTokenAdminService {
  constructor(
    @Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage,
    @Inject(FeatureFlagAdminStorage) private readonly admin: FeatureFlagAdminStorage,
  ) {}

  async list(): Promise<AdminResponse> {
    return { status: 200, body: { items: (await this.admin.listApiTokens()).map((t) => apiTokenView(t)) } };
  }

  /** Creates a token; its secret is in this answer only. */
  async create(dto: CreateApiTokenDto, principal: AdminPrincipal): Promise<AdminResponse> {
    const environments = [...new Set(dto.environments)];
    if (environments.includes('*') && environments.length > 1)
      throw new FeatureFlagsValidationError('environments', '"*" (every environment) cannot be combined with slugs');
    if (!environments.includes('*')) {
      const all = await this.storage.listEnvironments();
      for (const slug of environments) environmentOf(all, slug);
    }
    let expiresAt: Date | null = null;
    if (dto.expiresAt !== undefined) {
      expiresAt = new Date(dto.expiresAt);
      if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())
        throw new FeatureFlagsValidationError('expiresAt', 'must be a date in the future');
    }
    const secret = generateApiTokenSecret();
    // Who answers for the new token under the two-person rule: itself when the bootstrap token or an
    // `authenticate` identity creates it (a named principal), else the creating token's principal.
    const principalId = isApiTokenPrincipal(principal) ? accountableId(principal) : null;
    const token = await this.admin.createApiToken(
      {
        name: dto.name.trim(),
        type: dto.type,
        environments,
        secretHash: hashApiTokenSecret(secret),
        secretHint: secret.slice(0, SECRET_HINT_LENGTH),
        expiresAt,
        createdById: principal.id,
        principalId,
      },
      { actor: principal.name, data: { principalId: principal.id } },
    );
    return {
      status: 201,
      body: {
        token: apiTokenView(token),
        secret,
        note: 'Store the secret now: it is not shown again (only its SHA-256 is kept).',
      },
    };
  }

  async revoke(id: string, reason: string | undefined, principal: AdminPrincipal): Promise<AdminResponse> {
    const token = await this.admin.revokeApiToken(id, {
      actor: principal.name,
      reason: reason ?? null,
      data: { principalId: principal.id },
    });
    return { status: 200, body: apiTokenView(token) };
  }
}
