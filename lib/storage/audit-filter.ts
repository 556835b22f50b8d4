import { FeatureFlagsValidationError } from '../core/errors';
import { AuditEventFilter } from './feature-flag-storage.interface';
import { AuditEvent } from './records';

/** The audit log's filters: checked and given their defaults once, applied in memory by backends that need to. */

/** A filter with its defaults, validated (naming `filter.<field>`). */
export interface ResolvedEventFilter extends AuditEventFilter {
  types: string[] | undefined;
  order: 'asc' | 'desc';
  limit: number;
}

export const MAX_EVENT_PAGE = 1000;

export function resolveEventFilter(filter: AuditEventFilter | undefined): ResolvedEventFilter {
  const f = filter ?? {};
  const fail = (field: string, problem: string): never => {
    throw new FeatureFlagsValidationError(`filter.${field}`, problem);
  };
  for (const field of ['flagKey', 'environment', 'actor'] as const) {
    if (f[field] !== undefined && typeof f[field] !== 'string') fail(field, 'must be a string');
  }
  const types = f.type === undefined ? undefined : Array.isArray(f.type) ? f.type : [f.type];
  if (types && types.some((t) => typeof t !== 'string')) fail('type', 'must be a string or an array of strings');
  for (const field of ['since', 'until'] as const) {
    const v = f[field];
    if (
      v !== undefined &&
      !(Object.prototype.toString.call(v) === '[object Date]' && !Number.isNaN((v as Date).getTime()))
    )
      fail(field, 'must be a valid Date');
  }
  for (const field of ['beforeId', 'afterId'] as const) {
    const v = f[field];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 0)) fail(field, 'must be a non-negative integer');
  }
  if (f.order !== undefined && f.order !== 'asc' && f.order !== 'desc') fail('order', 'must be "asc" or "desc"');
  const limit = f.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_PAGE)
    fail('limit', `must be an integer from 1 to ${MAX_EVENT_PAGE}`);
  return { ...f, types, order: f.order ?? 'desc', limit };
}

/** Whether an event passes a filter (for backends that filter in memory). */
export function eventMatches(e: AuditEvent, f: ResolvedEventFilter): boolean {
  if (f.flagKey !== undefined && e.flagKey !== f.flagKey) return false;
  if (f.environment !== undefined && e.environment !== f.environment) return false;
  if (f.actor !== undefined && e.actor !== f.actor) return false;
  if (f.types !== undefined && !f.types.includes(e.type)) return false;
  if (f.since !== undefined && e.createdAt.getTime() < f.since.getTime()) return false;
  if (f.until !== undefined && e.createdAt.getTime() >= f.until.getTime()) return false;
  if (f.beforeId !== undefined && e.id >= f.beforeId) return false;
  if (f.afterId !== undefined && e.id <= f.afterId) return false;
  return true;
}
