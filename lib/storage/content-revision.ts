import { SnapshotData, StorageChange } from '../core/changes';
import { RevisionTracker } from './feature-flag-storage.interface';

/** The snapshot's tables, in the order of the revision's parts. */
const TABLES = ['flags', 'environments', 'overrides', 'segments'] as const;
type Table = (typeof TABLES)[number];
const TABLE_OF: Record<StorageChange['kind'], Table> = {
  flag: 'flags',
  environment: 'environments',
  override: 'overrides',
  segment: 'segments',
};

interface Versioned {
  version?: number;
  updatedAt?: Date;
}

/** Per table: the row count, the sum of versions and the latest update (ms; -Infinity: none). */
interface TableSums {
  n: number;
  v: number;
  u: number;
}

/** A timestamp in ms, NaN for anything but a Date (not instanceof: structuredClone may give another realm's). */
function millis(value: unknown): number {
  return Object.prototype.toString.call(value) === '[object Date]' ? (value as Date).getTime() : NaN;
}

/**
 * The content fingerprint of a store whose revision is computed from its records (the TypeORM store's:
 * per table the row count, the sum of versions and the latest update), kept up to date one change at a
 * time: an upsert costs O(1), whatever the number of records. A delete may lower a table's latest update,
 * which only the whole content tells: after one, `revision()` is undefined until the tracker is rebuilt.
 */
export class ContentRevision implements RevisionTracker {
  private readonly sums = new Map<Table, TableSums>();
  private known = true;

  constructor(data: SnapshotData) {
    for (const table of TABLES) {
      const sums: TableSums = { n: 0, v: 0, u: -Infinity };
      for (const r of data[table] as Versioned[]) this.add(sums, r);
      this.sums.set(table, sums);
    }
  }

  revision(): string | undefined {
    if (!this.known) return undefined;
    return TABLES.map((t) => {
      const { n, v, u } = this.sums.get(t)!;
      return `${n}.${v}.${n === 0 || u === -Infinity ? '' : u}`;
    }).join('/');
  }

  replace(change: StorageChange, before: object | undefined): void {
    if (change.op === 'delete') {
      this.known = false;
      return;
    }
    const after = (
      change.kind === 'flag'
        ? change.flag
        : change.kind === 'environment'
          ? change.environment
          : change.kind === 'override'
            ? change.override
            : change.segment
    ) as Versioned;
    const sums = this.sums.get(TABLE_OF[change.kind])!;
    const old = before as Versioned | undefined;
    if (old) {
      sums.n--;
      sums.v -= old.version ?? 0;
      // The record held the latest update and moved back: the table's latest is elsewhere.
      if (millis(old.updatedAt) >= sums.u && !(millis(after.updatedAt) >= millis(old.updatedAt))) this.known = false;
    }
    this.add(sums, after);
  }

  private add(sums: TableSums, r: Versioned): void {
    sums.n++;
    sums.v += r.version ?? 0;
    const t = millis(r.updatedAt);
    if (t > sums.u) sums.u = t;
  }
}
