import { AuditEventInput } from '../audit';
import { currentEventType, currentWrites } from '../legacy-names';
import {
  ApiToken,
  AuditEvent,
  ChangeRequest,
  ClientKey,
  Environment,
  Flag,
  FlagRule,
  Override,
  Segment,
} from '../records';

/** How the Redis backend keeps records: as JSON, dates as ISO strings. */

function withDates(o: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  for (const f of fields) if (typeof o[f] === 'string') o[f] = new Date(o[f] as string);
  return o;
}

const RECORD_DATES = ['createdAt', 'updatedAt'];
const parse = (raw: string): Record<string, unknown> => JSON.parse(raw) as Record<string, unknown>;

export const decodeEnvironment = (raw: string): Environment =>
  new Environment(withDates(parse(raw), RECORD_DATES) as Partial<Environment>);
export const decodeOverride = (raw: string): Override =>
  new Override(withDates(parse(raw), RECORD_DATES) as Partial<Override>);
export const decodeSegment = (raw: string): Segment =>
  new Segment(withDates(parse(raw), RECORD_DATES) as Partial<Segment>);
export const decodeApiToken = (raw: string): ApiToken =>
  new ApiToken(withDates(parse(raw), ['createdAt', 'expiresAt', 'revokedAt']) as Partial<ApiToken>);
export const decodeClientKey = (raw: string): ClientKey =>
  new ClientKey(withDates(parse(raw), ['createdAt', 'revokedAt']) as Partial<ClientKey>);
/** A change request; writes kept by an earlier version read with their current names. */
export function decodeChangeRequest(raw: string): ChangeRequest {
  const request = new ChangeRequest(
    withDates(parse(raw), ['createdAt', 'decidedAt', 'updatedAt']) as Partial<ChangeRequest>,
  );
  request.writes = currentWrites(request.writes);
  return request;
}

export function decodeFlag(raw: string): Flag {
  const o = withDates(parse(raw), RECORD_DATES) as Partial<Flag> & { rules?: Partial<FlagRule>[] };
  return new Flag({ ...o, rules: (o.rules ?? []).map((r) => new FlagRule(r)) });
}

export function encodeEvent(e: AuditEventInput): string {
  return JSON.stringify({
    type: e.type,
    actor: e.actor,
    flagKey: e.flagKey,
    environment: e.environment,
    before: e.before,
    after: e.after,
    reason: e.reason,
    data: e.data,
    createdAt: e.createdAt,
  });
}

/** Stream entry `[id, [field, value…]]` → the event. */
export function decodeEvent([entryId, fields]: [string, string[]]): AuditEvent {
  const json = fields[fields.indexOf('event') + 1];
  const e = withDates(parse(json), ['createdAt']) as Partial<AuditEvent>;
  // Events an earlier version appended keep their old type in the stream; they read with the current one.
  const type = typeof e.type === 'string' ? currentEventType(e.type) : e.type;
  return new AuditEvent({ ...e, type, id: Number(entryId.split('-')[1]) });
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** Creation order, ties broken by id (as the SQL backends list overrides). */
export const byCreation = <T extends { createdAt: Date; id: string }>(a: T, b: T): number =>
  a.createdAt.getTime() - b.createdAt.getTime() || compare(a.id, b.id);
/** Creation order, ties broken by slug (as the SQL backends list environments). */
export const bySlug = (a: Environment, b: Environment): number =>
  a.createdAt.getTime() - b.createdAt.getTime() || compare(a.slug, b.slug);
/** Creation order, ties broken by key (as the SQL backends list segments). */
export const byKey = (a: Segment, b: Segment): number =>
  a.createdAt.getTime() - b.createdAt.getTime() || compare(a.key, b.key);
