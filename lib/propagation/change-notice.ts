import { ChangeRevision, StorageChange } from '../core/changes';

/**
 * What one instance tells the others after a write: the change itself, or — when it is too large for the
 * transport (PostgreSQL NOTIFY carries at most 8000 bytes) — a reference that receivers resolve by
 * reading the record from storage.
 */
export interface ChangeNotice {
  /** The instance that made the write (it ignores its own notices). */
  origin: string;
  /** The change, when it fits. */
  change?: StorageChange;
  /** Otherwise what changed, to be read back from storage. */
  ref?: ChangeRef;
  /** Where the change left the store's revision, when the store numbers its commits. */
  revision?: ChangeRevision;
}

/** Identifies a changed record without its content. */
export type ChangeRef =
  | { kind: 'flag'; key: string }
  | { kind: 'environment'; id: string }
  | { kind: 'override'; environmentId: string; flagId: string }
  | { kind: 'segment'; key: string };

/** The reference of a change. */
export function refOf(change: StorageChange): ChangeRef {
  switch (change.kind) {
    case 'flag':
      return { kind: 'flag', key: change.op === 'upsert' ? change.flag.key : change.key };
    case 'environment':
      return { kind: 'environment', id: change.op === 'upsert' ? change.environment.id : change.id };
    case 'override':
      return change.op === 'upsert'
        ? {
            kind: 'override',
            environmentId: change.override.environmentId,
            flagId: change.override.flagId,
          }
        : { kind: 'override', environmentId: change.environmentId, flagId: change.flagId };
    case 'segment':
      return { kind: 'segment', key: change.op === 'upsert' ? change.segment.key : change.key };
  }
}

/** Serializes a notice, falling back to a reference when the full change exceeds `maxBytes`. */
export function encodeNotice(
  origin: string,
  change: StorageChange,
  maxBytes: number,
  revision?: ChangeRevision,
): string {
  const full = JSON.stringify({ origin, change, ...(revision ? { revision } : {}) } satisfies ChangeNotice);
  if (Buffer.byteLength(full) <= maxBytes) return full;
  return JSON.stringify({ origin, ref: refOf(change), ...(revision ? { revision } : {}) } satisfies ChangeNotice);
}

/**
 * Whether `payload` is a notice that `origin` published (`encodeNotice` writes the origin first), told
 * without parsing it: an instance receives its own notices too, and ignores them.
 */
export function isNoticeFrom(payload: string, origin: string): boolean {
  const prefix = `{"origin":${JSON.stringify(origin)},`;
  return payload.startsWith(prefix);
}

const DATE_FIELDS = new Set(['createdAt', 'updatedAt']);

/** Parses a notice (dates revived); undefined for anything malformed. */
export function decodeNotice(payload: string): ChangeNotice | undefined {
  try {
    const notice = JSON.parse(payload, (key, value) =>
      DATE_FIELDS.has(key) && typeof value === 'string' ? new Date(value) : value,
    ) as ChangeNotice;
    if (typeof notice !== 'object' || notice === null || typeof notice.origin !== 'string') return undefined;
    if (notice.change === undefined && notice.ref === undefined) return undefined;
    return withCurrentKind(notice);
  } catch {
    return undefined;
  }
}

/** A notice from an instance of an earlier version names an override change `environmentFlag`. */
function withCurrentKind(notice: ChangeNotice): ChangeNotice {
  const change = notice.change as { kind: string; environmentFlag?: unknown } | undefined;
  if (change?.kind === 'environmentFlag') {
    const { environmentFlag, ...rest } = change;
    notice.change = (
      environmentFlag === undefined
        ? { ...rest, kind: 'override' }
        : { ...rest, kind: 'override', override: environmentFlag }
    ) as StorageChange;
  }
  const ref = notice.ref as { kind: string } | undefined;
  if (ref?.kind === 'environmentFlag') notice.ref = { ...ref, kind: 'override' } as ChangeRef;
  return notice;
}
