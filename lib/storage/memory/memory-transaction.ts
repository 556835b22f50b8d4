import { StorageChange } from '../../core/changes';
import { AuditEventInput, copyApiToken, copyChangeRequest } from '../audit';
import { DeletableKind, RecordKind, RecordLookups, RecordTransaction, StoredRecords } from '../record-transaction';
import { Environment, Flag, Override, copyEnvironment, copyFlag, copyOverride, copySegment } from '../records';
import { copyClientKey } from '../secret-records';

/** The memory backend's records: one map per kind, by id, in insertion order. */
export type MemoryTables = { [K in RecordKind]: Map<string, StoredRecords[K]> };

export function memoryTables(): MemoryTables {
  return {
    environment: new Map(),
    flag: new Map(),
    override: new Map(),
    segment: new Map(),
    apiToken: new Map(),
    clientKey: new Map(),
    changeRequest: new Map(),
  };
}

type Copy<K extends RecordKind> = (record: StoredRecords[K]) => StoredRecords[K];
const COPY: { [K in RecordKind]: Copy<K> } = {
  environment: copyEnvironment,
  flag: copyFlag,
  override: copyOverride,
  segment: copySegment,
  apiToken: copyApiToken,
  clientKey: copyClientKey,
  changeRequest: copyChangeRequest,
};

/** A copy of a record, of any kind. */
export function copyRecord<K extends RecordKind>(kind: K, record: StoredRecords[K]): StoredRecords[K] {
  return (COPY[kind] as Copy<K>)(record);
}

/**
 * One transaction of the memory backend: its writes are staged over the tables (reads see them) and
 * applied by `commit`, at once; a transaction that fails is dropped, leaving the tables as they were.
 * Records go in and come out as copies.
 */
export class MemoryTransaction implements RecordTransaction {
  readonly changes: StorageChange[] = [];
  readonly events: AuditEventInput[] = [];
  duplicate?: RecordTransaction['duplicate'];
  /** Staged records by kind and id (null: deleted). */
  private readonly staged = new Map<RecordKind, Map<string, unknown>>();

  constructor(private readonly tables: MemoryTables) {}

  async environments(): Promise<Environment[]> {
    return this.values('environment').map(copyEnvironment);
  }

  async flags(): Promise<Flag[]> {
    return this.values('flag').map(copyFlag);
  }

  async overrides(): Promise<Override[]> {
    return this.values('override').map(copyOverride);
  }

  async find<K extends RecordKind>(kind: K, by: RecordLookups[K]): Promise<StoredRecords[K] | null> {
    const found = this.lookup(kind, by);
    return found ? copyRecord(kind, found) : null;
  }

  async exists<K extends RecordKind>(kind: K, by: RecordLookups[K]): Promise<boolean> {
    return this.lookup(kind, by) !== undefined;
  }

  async insert<K extends RecordKind>(kind: K, record: StoredRecords[K]): Promise<void> {
    this.stage(kind, record.id, copyRecord(kind, record));
  }

  async update<K extends RecordKind>(kind: K, _existing: StoredRecords[K], next: StoredRecords[K]): Promise<void> {
    this.stage(kind, next.id, copyRecord(kind, next));
  }

  async delete<K extends DeletableKind>(kind: K, record: StoredRecords[K]): Promise<number> {
    let overrides = 0;
    if (kind === 'environment' || kind === 'flag') {
      const field = kind === 'environment' ? 'environmentId' : 'flagId';
      for (const o of this.values('override')) {
        if (o[field] !== record.id) continue;
        this.stage('override', o.id, null);
        overrides++;
      }
    }
    this.stage(kind, record.id, null);
    return overrides;
  }

  emit(change: StorageChange): void {
    this.changes.push(change);
  }

  audit(event: AuditEventInput): void {
    this.events.push(event);
  }

  /** Applies the staged writes to the tables. */
  commit(): void {
    for (const [kind, records] of this.staged) {
      const table = this.tables[kind] as Map<string, unknown>;
      for (const [id, record] of records) {
        if (record === null) table.delete(id);
        else table.set(id, record);
      }
    }
  }

  private stage(kind: RecordKind, id: string, record: unknown): void {
    let records = this.staged.get(kind);
    if (!records) this.staged.set(kind, (records = new Map()));
    records.set(id, record);
  }

  /** The records of a kind as the transaction sees them, in insertion order (not copies). */
  private values<K extends RecordKind>(kind: K): StoredRecords[K][] {
    const table = this.tables[kind] as Map<string, StoredRecords[K]>;
    const staged = this.staged.get(kind) as Map<string, StoredRecords[K] | null> | undefined;
    if (!staged) return [...table.values()];
    const out: StoredRecords[K][] = [];
    for (const [id, record] of table) {
      const current = staged.has(id) ? staged.get(id)! : record;
      if (current) out.push(current);
    }
    for (const [id, record] of staged) if (record && !table.has(id)) out.push(record);
    return out;
  }

  private lookup<K extends RecordKind>(kind: K, by: RecordLookups[K]): StoredRecords[K] | undefined {
    const fields = Object.entries(by) as [string, unknown][];
    if (fields.length === 1 && fields[0][0] === 'id') {
      const id = fields[0][1] as string;
      const staged = this.staged.get(kind);
      if (staged?.has(id)) return (staged.get(id) as StoredRecords[K] | null) ?? undefined;
      return (this.tables[kind] as Map<string, StoredRecords[K]>).get(id);
    }
    return this.values(kind).find((r) =>
      fields.every(([field, value]) => (r as unknown as Record<string, unknown>)[field] === value),
    );
  }
}
