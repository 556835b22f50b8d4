import { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { StorageChange } from '../../core/changes';
import { AuditEventInput } from '../audit';
import {
  DeletableKind,
  OverrideWithNames,
  RecordKind,
  RecordLookups,
  RecordTransaction,
  StoredRecords,
} from '../record-transaction';
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
import { RecordStatements } from './record-statements';

/** The entity (table) of each kind of record. */
export const ENTITY_OF: { [K in RecordKind]: EntityTarget<StoredRecords[K]> } = {
  environment: Environment,
  flag: Flag,
  override: Override,
  segment: Segment,
  apiToken: ApiToken,
  clientKey: ClientKey,
  changeRequest: ChangeRequest,
};

/** How a kind of record is named in errors. */
const ENTITY_NAME: { [K in RecordKind]: string } = {
  environment: 'environment',
  flag: 'flag',
  override: 'override',
  segment: 'segment',
  apiToken: 'api token',
  clientKey: 'client key',
  changeRequest: 'change request',
};

/** Thrown inside a transaction when a compare-and-set update matched no row: the write is retried. */
export class StaleWrite extends Error {
  constructor(
    readonly entity: string,
    readonly identifier: string,
    readonly target: EntityTarget<ObjectLiteral>,
    readonly id: string,
    readonly expectedVersion: number,
  ) {
    super(`The ${entity} "${identifier}" changed during the write.`);
  }
}

/** The first row matching `where` (column values by property name), as a fresh entity; `lock` locks it until the transaction ends. */
export function one<E extends ObjectLiteral>(
  m: EntityManager,
  target: EntityTarget<E>,
  where: ObjectLiteral,
  lock = false,
): Promise<E | null> {
  const query = m.createQueryBuilder(target, 'x').where(where);
  return (lock ? query.setLock('pessimistic_write') : query).getOne();
}

/** Flags with their rules in written order, in one statement (so a flag and its rules are consistent). */
export function flagQuery(m: EntityManager) {
  return m.createQueryBuilder(Flag, 'f').leftJoinAndSelect('f.rules', 'r').orderBy('f.key').addOrderBy('r.position');
}

/** Flags as TypeORM returns them, with `rules` always an array. */
export function withRules(flags: Flag[]): Flag[] {
  for (const flag of flags) flag.rules ??= [];
  return flags;
}

/** Overrides in creation order (ties by id). */
export function overrideQuery(m: EntityManager) {
  return m.createQueryBuilder(Override, 'o').orderBy('o.createdAt').addOrderBy('o.id');
}

/**
 * One attempt of a TypeORM write, over the transaction's entity manager. `rowLocks`: whether the database
 * locks rows (`SELECT … FOR UPDATE`; not SQLite, whose writes the storage runs one at a time). Single
 * records are read, updated and audited with the data source's prepared `statements`.
 */
export class TypeOrmTransaction implements RecordTransaction {
  readonly changes: StorageChange[] = [];
  readonly events: AuditEvent[] = [];
  duplicate?: RecordTransaction['duplicate'];

  constructor(
    private readonly m: EntityManager,
    private readonly rowLocks: boolean,
    private readonly statements: RecordStatements,
  ) {}

  /** Every environment, locked against concurrent environment writes. */
  environments(): Promise<Environment[]> {
    const query = this.m.createQueryBuilder(Environment, 'e').orderBy('e.id');
    return (this.rowLocks ? query.setLock('pessimistic_write') : query).getMany();
  }

  async flags(): Promise<Flag[]> {
    return withRules(await flagQuery(this.m).getMany());
  }

  overrides(): Promise<Override[]> {
    return overrideQuery(this.m).getMany();
  }

  async find<K extends RecordKind>(kind: K, by: RecordLookups[K], lock = false): Promise<StoredRecords[K] | null> {
    const locked = lock && this.rowLocks;
    if (kind !== 'flag') return this.statements.one(this.m, ENTITY_OF[kind], by, locked);
    // Locked apart from the read: PostgreSQL cannot lock the nullable side of the rules join.
    if (locked && !(await this.statements.one(this.m, Flag, by, true))) return null;
    const flag = await flagQuery(this.m).where(by).getOne();
    return (flag ? withRules([flag])[0] : null) as StoredRecords[K] | null;
  }

  findOverride(by: RecordLookups['override'], lock = false): Promise<OverrideWithNames | null> {
    return this.statements.override(this.m, by, lock && this.rowLocks);
  }

  exists<K extends RecordKind>(kind: K, by: RecordLookups[K]): Promise<boolean> {
    return this.m.createQueryBuilder(ENTITY_OF[kind], 'x').where(by).getExists();
  }

  async insert<K extends RecordKind>(kind: K, record: StoredRecords[K]): Promise<void> {
    await this.m
      .createQueryBuilder()
      .insert()
      .into(ENTITY_OF[kind])
      .values(record as never)
      .updateEntity(false)
      .execute();
    if (kind === 'flag') await this.insertRules((record as Flag).rules);
  }

  /**
   * `UPDATE … SET <every column of next>, version = <stored + 1> WHERE id = :id AND version = :stored`: a
   * row that someone else updated since it was read matches nothing, and the write starts over. A flag's
   * rules are replaced (once the compare-and-set has won) when the update gave new ones.
   */
  async update<K extends RecordKind>(kind: K, existing: StoredRecords[K], next: StoredRecords[K]): Promise<void> {
    const target = ENTITY_OF[kind];
    const affected = await this.statements.update(this.m, target as EntityTarget<ObjectLiteral>, existing, next);
    if (affected === 0)
      throw new StaleWrite(
        ENTITY_NAME[kind],
        identifierOf(kind, existing),
        target as EntityTarget<ObjectLiteral>,
        existing.id,
        existing.version,
      );
    if (kind === 'flag' && (next as Flag).rules !== (existing as Flag).rules) {
      await this.m.createQueryBuilder().delete().from(FlagRule).where({ flagId: next.id }).execute();
      await this.insertRules((next as Flag).rules);
    }
  }

  async delete<K extends DeletableKind>(kind: K, record: StoredRecords[K]): Promise<number> {
    let overrides = 0;
    if (kind === 'environment' || kind === 'flag') {
      const where = kind === 'environment' ? { environmentId: record.id } : { flagId: record.id };
      overrides = (await this.m.createQueryBuilder().delete().from(Override).where(where).execute()).affected ?? 0;
    }
    if (kind === 'flag')
      await this.m.createQueryBuilder().delete().from(FlagRule).where({ flagId: record.id }).execute();
    await this.m.createQueryBuilder().delete().from(ENTITY_OF[kind]).where({ id: record.id }).execute();
    return overrides;
  }

  emit(change: StorageChange): void {
    this.changes.push(change);
  }

  /** Inserts the audit event, keeping it with the id the database gave it. */
  async audit(event: AuditEventInput): Promise<void> {
    const id = await this.statements.insertEvent(this.m, event);
    this.events.push(new AuditEvent({ ...event, id }));
  }

  private async insertRules(rules: FlagRule[]): Promise<void> {
    if (rules.length === 0) return;
    const rows = rules.map((rule, position) => Object.assign(new FlagRule(rule), { position }));
    await this.m
      .createQueryBuilder()
      .insert()
      .into(FlagRule)
      .values(rows as never)
      .updateEntity(false)
      .execute();
  }
}

/** How a record is named in a conflict: its key, slug or id. */
function identifierOf(kind: RecordKind, record: { id: string }): string {
  const r = record as { key?: string; slug?: string; id: string };
  if (kind === 'flag' || kind === 'segment') return r.key!;
  if (kind === 'environment') return r.slug!;
  return r.id;
}
