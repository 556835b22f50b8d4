import { Inject, Injectable } from '@nestjs/common';
import { FeatureFlagsValidationError } from '../../core/errors';
import { AuditEvent } from '../../storage/records';
import { AuditEventFilter, FeatureFlagStorage } from '../../storage/feature-flag-storage.interface';
import { assertEnvironmentAccess, canAccessEnvironment, coversAllEnvironments } from '../auth/admin-principal';
import { ListEventsQueryDto } from '../dto/admin.dto';
import { AdminResponse } from '../http/admin-responder';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { eventView } from '../views/views';

/** How many pages a scoped reader's listing scans for events of its environments. */
const MAX_SCANNED_PAGES = 10;

/** The audit log route's logic. */
@Injectable()
export class EventAdminService {
  constructor(@Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage) {}

  /**
   * Events, newest first (oldest first with `after`), `limit` per page; `nextCursor` is the `before` (or
   * `after`) of the next page. A token limited to some environments sees only their events.
   */
  async list(query: ListEventsQueryDto, principal: AdminPrincipal): Promise<AdminResponse> {
    if (query.environment) assertEnvironmentAccess(principal, query.environment, 'read');
    const date = (value: string | undefined, field: string): Date | undefined => {
      if (value === undefined) return undefined;
      const d = new Date(value);
      if (Number.isNaN(d.getTime())) throw new FeatureFlagsValidationError(field, 'must be an ISO 8601 date');
      return d;
    };
    if (query.before !== undefined && query.after !== undefined)
      throw new FeatureFlagsValidationError('after', 'cannot be combined with "before"');
    const limit = query.limit ?? 100;
    const ascending = query.after !== undefined;
    const filter: AuditEventFilter = {
      flagKey: query.flag,
      environment: query.environment,
      type: query.type?.split(','),
      actor: query.actor,
      since: date(query.since, 'since'),
      until: date(query.until, 'until'),
      order: ascending ? 'asc' : 'desc',
      limit,
      ...(query.before !== undefined ? { beforeId: query.before } : {}),
      ...(query.after !== undefined ? { afterId: query.after } : {}),
    };
    const visible = (e: AuditEvent) =>
      coversAllEnvironments(principal) || (e.environment !== null && canAccessEnvironment(principal, e.environment));
    const items: AuditEvent[] = [];
    let cursor: number | undefined;
    let more = true;
    for (let page = 0; page < MAX_SCANNED_PAGES && more && items.length < limit; page++) {
      const events = await this.storage.listEvents({
        ...filter,
        ...(cursor !== undefined ? (ascending ? { afterId: cursor } : { beforeId: cursor }) : {}),
      });
      more = events.length === limit;
      for (let i = 0; i < events.length; i++) {
        cursor = events[i].id;
        if (!visible(events[i])) continue;
        items.push(events[i]);
        if (items.length === limit) {
          more ||= i < events.length - 1;
          break;
        }
      }
    }
    const nextCursor = more && cursor !== undefined ? cursor : null;
    return { status: 200, body: { items: items.map(eventView), nextCursor } };
  }
}
