import type { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryRunner, SelectQueryBuilder } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import { FlagType } from '../../core/types';
import { AuditEventInput } from '../audit';
import { OverrideWithNames } from '../record-transaction';
import { AuditEvent, Environment, Flag, Override } from '../records';

/**
 * The statements of a write transaction — one record by a unique lookup, an override with the names its
 * audit event needs, the compare-and-set update, the audit insert — as SQL that TypeORM's query builders
 * write once per data source and shape of statement, run on the transaction's connection with their values
 * converted column by column as the builders convert them, and rows read into records as hydration reads
 * them. A write then costs its round trips, not the building of each statement and the hydration of each
 * row, which took more CPU than the round trips themselves.
 */

/** Marks a parameter in a statement being built, so that its place in the driver's parameter list is known. */
const MARK = '\u0000ff-param:';

/** SQL with the names of its parameters, in the order the driver takes them. */
interface Prepared {
  sql: string;
  order: string[];
}

/** A select of one row: its SQL and the columns it returns (by property name), converted as hydration does. */
interface PreparedSelect extends Prepared {
  columns: ColumnMetadata[];
}

/** The SQL and parameter order of a query built with `marked(name)` values. */
function prepared(query: { getQueryAndParameters(): [string, unknown[]] }): Prepared {
  const [sql, params] = query.getQueryAndParameters();
  const order = params.map((p) => {
    if (typeof p !== 'string' || !p.startsWith(MARK)) throw new Error(`unexpected parameter in ${sql}`);
    return p.slice(MARK.length);
  });
  return { sql, order };
}

const marked = (name: string): string => `${MARK}${name}`;

/** The object `where` as marked parameters, by property name. */
const markedWhere = (properties: string[]): ObjectLiteral => Object.fromEntries(properties.map((p) => [p, marked(p)]));

/** Statements of one data source, built on first use. */
export class RecordStatements {
  private readonly selects = new Map<string, PreparedSelect>();
  private readonly updates = new Map<Function, Prepared & { columns: ColumnMetadata[] }>();
  private auditInsert: (Prepared & { columns: ColumnMetadata[]; returning: boolean }) | undefined;

  constructor(private readonly dataSource: DataSource) {}

  /** The first row of `target` matching `where` (property names, string values), as a record; `lock` locks it. */
  async one<E extends ObjectLiteral>(
    m: EntityManager,
    target: EntityTarget<E>,
    where: ObjectLiteral,
    lock: boolean,
  ): Promise<E | null> {
    const properties = Object.keys(where);
    const metadata = this.dataSource.getMetadata(target);
    const key = `${metadata.name}|${properties.join(',')}|${lock}`;
    let statement = this.selects.get(key);
    if (!statement) {
      const query = this.selectColumns(m, metadata).where(markedWhere(properties));
      statement = {
        ...prepared(lock ? query.setLock('pessimistic_write') : query),
        columns: this.selectable(metadata),
      };
      this.selects.set(key, statement);
    }
    const row = await this.selectRow(m, statement, where);
    return row ? this.record<E>(metadata, statement.columns, row) : null;
  }

  /** An override with its flag's key and type and its environment's slug, in one statement; `lock` locks the override (only). */
  async override(m: EntityManager, where: ObjectLiteral, lock: boolean): Promise<OverrideWithNames | null> {
    const properties = Object.keys(where);
    const metadata = this.dataSource.getMetadata(Override);
    const key = `override+names|${properties.join(',')}|${lock}`;
    let statement = this.selects.get(key);
    if (!statement) {
      const name = (sub: SelectQueryBuilder<ObjectLiteral>, select: string, from: Function, join: string) =>
        sub.select(`n.${select}`).from(from, 'n').where(`n.id = x.${join}`);
      const query = this.selectColumns(m, metadata)
        .addSelect((sub) => name(sub, 'key', Flag, 'flagId'), 'flagKey')
        .addSelect((sub) => name(sub, 'type', Flag, 'flagId'), 'flagType')
        .addSelect((sub) => name(sub, 'slug', Environment, 'environmentId'), 'environmentSlug')
        .where(markedWhere(properties));
      statement = {
        ...prepared(lock ? query.setLock('pessimistic_write') : query),
        columns: this.selectable(metadata),
      };
      this.selects.set(key, statement);
    }
    const row = await this.selectRow(m, statement, where);
    if (!row) return null;
    return {
      override: this.record<Override>(metadata, statement.columns, row),
      flagKey: row.flagKey as string,
      flagType: row.flagType as FlagType,
      environmentSlug: row.environmentSlug as string,
    };
  }

  /**
   * `UPDATE … SET <every column but the primary key and creation date> WHERE id = :id AND version = :version`
   * with `next`'s values and `existing`'s id and version; returns how many rows it changed.
   */
  async update(m: EntityManager, target: EntityTarget<ObjectLiteral>, existing: ObjectLiteral, next: ObjectLiteral) {
    const metadata = this.dataSource.getMetadata(target);
    let statement = this.updates.get(metadata.target as Function);
    if (!statement) {
      const columns = metadata.columns.filter((c) => !c.isPrimary && !c.isCreateDate);
      const query = m
        .createQueryBuilder()
        .update(target)
        .set(Object.fromEntries(columns.map((c) => [c.propertyName, () => `:set_${c.propertyName}`])))
        .setParameters(
          Object.fromEntries(columns.map((c) => [`set_${c.propertyName}`, marked(`set_${c.propertyName}`)])),
        )
        .where(markedWhere(['id', 'version']));
      statement = { ...prepared(query), columns };
      this.updates.set(metadata.target as Function, statement);
    }
    const driver = this.dataSource.driver;
    const values: Record<string, unknown> = { id: existing.id, version: existing.version };
    for (const c of statement.columns)
      values[`set_${c.propertyName}`] = driver.preparePersistentValue(next[c.propertyName], c);
    const result = await runner(m).query(
      statement.sql,
      statement.order.map((name) => values[name]),
      true,
    );
    return result.affected ?? 0;
  }

  /** Inserts an audit event; returns the id the database gave it. */
  async insertEvent(m: EntityManager, event: AuditEventInput): Promise<number> {
    const metadata = this.dataSource.getMetadata(AuditEvent);
    const driver = this.dataSource.driver;
    let statement = this.auditInsert;
    if (!statement) {
      const columns = metadata.columns.filter((c) => !c.isGenerated);
      const returning = driver.isReturningSqlSupported('insert');
      const query = m
        .createQueryBuilder()
        .insert()
        .into(AuditEvent)
        .values(Object.fromEntries(columns.map((c) => [c.propertyName, () => `:${c.propertyName}`])) as never)
        .setParameters(Object.fromEntries(columns.map((c) => [c.propertyName, marked(c.propertyName)])))
        .updateEntity(false);
      if (returning) query.returning(metadata.primaryColumns.map((c) => c.databaseName));
      statement = this.auditInsert = { ...prepared(query), columns, returning };
    }
    const values: Record<string, unknown> = {};
    const e = event as unknown as Record<string, unknown>;
    for (const c of statement.columns) values[c.propertyName] = driver.preparePersistentValue(e[c.propertyName], c);
    const result = await runner(m).query(
      statement.sql,
      statement.order.map((name) => values[name]),
      true,
    );
    // What TypeORM's insert reads the generated id from: the returned row, or the driver's result.
    const inserted: unknown = statement.returning ? result.records[0] : result.raw;
    const id = (driver.createGeneratedMap(metadata, inserted, 0, 1) as { id?: unknown } | undefined)?.id;
    return Number(id);
  }

  private selectable(metadata: EntityMetadata): ColumnMetadata[] {
    return metadata.columns.filter((c) => c.isSelect);
  }

  /** SELECT of every selectable column of the entity, aliased by property name, from `x`. */
  private selectColumns(m: EntityManager, metadata: EntityMetadata): SelectQueryBuilder<ObjectLiteral> {
    const query = m.createQueryBuilder(metadata.target, 'x');
    this.selectable(metadata).forEach((c, i) =>
      i === 0
        ? query.select(`x.${c.propertyPath}`, c.propertyName)
        : query.addSelect(`x.${c.propertyPath}`, c.propertyName),
    );
    return query;
  }

  private async selectRow(m: EntityManager, statement: Prepared, where: ObjectLiteral) {
    const rows = (await runner(m).query(
      statement.sql,
      statement.order.map((name) => where[name]),
    )) as Record<string, unknown>[];
    return rows.length > 0 ? rows[0] : undefined;
  }

  /** A row as a record of the entity's class, each column converted as TypeORM's hydration converts it. */
  private record<E>(metadata: EntityMetadata, columns: ColumnMetadata[], row: Record<string, unknown>): E {
    const driver = this.dataSource.driver;
    const record = metadata.create(undefined, { fromDeserializer: true }) as Record<string, unknown>;
    for (const c of columns) {
      const value = row[c.propertyName];
      if (value !== undefined) record[c.propertyName] = driver.prepareHydratedValue(value, c);
    }
    return record as E;
  }
}

/** The transaction's query runner (an entity manager of `DataSource.transaction` always has one). */
function runner(m: EntityManager): QueryRunner {
  if (!m.queryRunner) throw new Error('RecordStatements runs inside a transaction');
  return m.queryRunner;
}
