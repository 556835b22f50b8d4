import { Inject, Injectable } from '@nestjs/common';
import { ChangeRequest } from '../../storage/records';
import { AdminRecordNotFoundError, FeatureFlagAdminStorage } from '../../storage/feature-flag-admin-storage.interface';
import { accountableId, assertEnvironmentAccess, canAccessEnvironment } from '../auth/admin-principal';
import { BOOTSTRAP_PRINCIPAL } from '../auth/admin-auth.guard';
import { DecisionDto, ListChangeRequestsQueryDto } from '../dto/admin.dto';
import { AdminForbiddenException, SetupTokenException } from '../http/admin.exceptions';
import { AdminResponse } from '../http/admin-responder';
import { etagOf } from '../http/if-match';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { changeRequestView } from '../views/views';

/** The change request routes' logic: the two-person rule of `settings.requireApproval`. */
@Injectable()
export class ChangeRequestAdminService {
  constructor(@Inject(FeatureFlagAdminStorage) private readonly admin: FeatureFlagAdminStorage) {}

  /** The requests the caller may read (every environment they touch is in its scope). */
  async list(query: ListChangeRequestsQueryDto, principal: AdminPrincipal): Promise<AdminResponse> {
    if (query.environment) assertEnvironmentAccess(principal, query.environment, 'read');
    const requests = await this.admin.listChangeRequests({
      status: query.status,
      environment: query.environment,
      flagKey: query.flag,
    });
    const items = requests
      .filter((c) => c.environments.every((e) => canAccessEnvironment(principal, e)))
      .map(changeRequestView);
    return { status: 200, body: { items } };
  }

  async get(id: string, principal: AdminPrincipal): Promise<AdminResponse> {
    const request = await this.require(id);
    for (const e of request.environments) assertEnvironmentAccess(principal, e, 'read');
    return { status: 200, body: changeRequestView(request), etag: etagOf(request.version) };
  }

  /** Approves and applies a request, in one transaction. Not by the principal who asked. */
  async approve(id: string, dto: DecisionDto, principal: AdminPrincipal): Promise<AdminResponse> {
    const request = await this.require(id);
    for (const e of request.environments) assertEnvironmentAccess(principal, e, 'change');
    if (principal === BOOTSTRAP_PRINCIPAL) throw new SetupTokenException('approve');
    // The two-person rule compares accountable principals: a token created by the requester's token is the requester.
    if (request.createdById !== null && request.createdById === accountableId(principal)) {
      throw new AdminForbiddenException(
        'SELF_APPROVAL',
        "A change request must be approved by someone else than who asked for it: another person, or a token created for another person (a token created by the requester's token counts as the requester).",
        { changeRequestId: id },
      );
    }
    const { changeRequest } = await this.admin.approveChangeRequest(id, {
      actor: principal.name,
      actorId: principal.id,
      reason: dto.reason ?? null,
      version: dto.version,
    });
    return { status: 200, body: changeRequestView(changeRequest), etag: etagOf(changeRequest.version) };
  }

  /** Rejects a request (its author may withdraw it this way). */
  async reject(id: string, dto: DecisionDto, principal: AdminPrincipal): Promise<AdminResponse> {
    const request = await this.require(id);
    for (const e of request.environments) assertEnvironmentAccess(principal, e, 'change');
    const rejected = await this.admin.rejectChangeRequest(id, {
      actor: principal.name,
      actorId: principal.id,
      reason: dto.reason ?? null,
      version: dto.version,
    });
    return { status: 200, body: changeRequestView(rejected), etag: etagOf(rejected.version) };
  }

  private async require(id: string): Promise<ChangeRequest> {
    const request = await this.admin.getChangeRequest(id);
    if (!request) throw new AdminRecordNotFoundError('change request', id);
    return request;
  }
}
