import { Inject, Injectable } from '@nestjs/common';
import { FeatureFlagAdminStorage } from '../../storage/feature-flag-admin-storage.interface';
import { FeatureFlagStorage } from '../../storage/feature-flag-storage.interface';
import { assertEnvironmentAccess, canAccessEnvironment } from '../auth/admin-principal';
import { hashApiTokenSecret, SECRET_HINT_LENGTH } from '../auth/api-token-secret';
import { generateClientKeySecret } from '../auth/client-key-secret';
import { CreateClientKeyDto } from '../dto/client-key.dto';
import { AdminResponse } from '../http/admin-responder';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { clientKeyView } from '../views/views';
import { environmentOf } from './flag-records';

/**
 * The client key routes' logic. A principal sees and manages the keys of the environments it may access;
 * creating and revoking need an admin token.
 */
@Injectable()
export class ClientKeyAdminService {
  constructor(
    @Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage,
    @Inject(FeatureFlagAdminStorage) private readonly admin: FeatureFlagAdminStorage,
  ) {}

  async list(principal: AdminPrincipal): Promise<AdminResponse> {
    const keys = (await this.admin.listClientKeys()).filter((k) => canAccessEnvironment(principal, k.environment));
    return { status: 200, body: { items: keys.map((k) => clientKeyView(k)) } };
  }

  /** Creates a key for an existing environment; its secret is in this answer only. */
  async create(dto: CreateClientKeyDto, principal: AdminPrincipal): Promise<AdminResponse> {
    assertEnvironmentAccess(principal, dto.environment, 'change');
    environmentOf(await this.storage.listEnvironments(), dto.environment);
    const secret = generateClientKeySecret();
    const key = await this.admin.createClientKey(
      {
        name: dto.name.trim(),
        environment: dto.environment,
        secretHash: hashApiTokenSecret(secret),
        secretHint: secret.slice(0, SECRET_HINT_LENGTH),
      },
      { actor: principal.name, data: { principalId: principal.id } },
    );
    return {
      status: 201,
      body: {
        clientKey: clientKeyView(key),
        secret,
        note: 'Store the secret now: it is not shown again (only its SHA-256 is kept).',
      },
    };
  }

  /** Revokes a key: OFREP refuses it (401) from now on. */
  async revoke(id: string, reason: string | undefined, principal: AdminPrincipal): Promise<AdminResponse> {
    const existing = await this.admin.getClientKey(id);
    if (existing) assertEnvironmentAccess(principal, existing.environment, 'change');
    const key = await this.admin.revokeClientKey(id, {
      actor: principal.name,
      reason: reason ?? null,
      data: { principalId: principal.id },
    });
    return { status: 200, body: clientKeyView(key) };
  }
}
