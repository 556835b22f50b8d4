import { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { Driver } from 'typeorm/driver/Driver';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { Flag, FlagRule } from '../records';

/**
 * Reads for the snapshot without TypeORM's entity hydration (most of the time of a load at 10,000 flags):
 * each table's selected columns come back as raw rows, each value converted as hydration converts it
 * (JSON, booleans; dates by the driver's own `prepareHydratedValue`), and the records are built directly.
 */

/**
 * How a column's raw value becomes the record's: JSON text is parsed and booleans made booleans as every
 * driver does, strings and numbers are kept; anything else (dates) goes through the driver's own conversion.
 */
function converterOf(driver: Driver, column: ColumnMetadata): (value: unknown) => unknown {
  if (column.transformer) return (value) => driver.prepareHydratedValue(value, column);
  if (column.type === 'simple-json') return (value) => (typeof value === 'string' ? JSON.parse(value) : value);
  if (column.type === 'boolean' || column.type === Boolean)
    return (value) => (value === null || value === undefined ? value : value ? true : false);
  if (['varchar', 'text', 'int', 'double precision'].includes(column.type as string)) return (value) => value;
  return (value) => driver.prepareHydratedValue(value, column);
}

/** Every row of `target`'s table in the order of `orderBy` (property names), as records built by `make`. */
export async function leanRows<T extends ObjectLiteral>(
  m: EntityManager,
  target: EntityTarget<T>,
  orderBy: string[],
  make: (init: Partial<T>) => T,
): Promise<T[]> {
  const driver = m.connection.driver;
  const columns = m.connection.getMetadata(target).columns.filter((c) => c.isSelect);
  const query = m.createQueryBuilder(target, 'x');
  columns.forEach((c, i) =>
    i === 0
      ? query.select(`x.${c.propertyPath}`, c.propertyName)
      : query.addSelect(`x.${c.propertyPath}`, c.propertyName),
  );
  orderBy.forEach((property, i) => (i === 0 ? query.orderBy(`x.${property}`) : query.addOrderBy(`x.${property}`)));
  const converters = columns.map((c) => [c.propertyName, converterOf(driver, c)] as const);
  const rows = await query.getRawMany<Record<string, unknown>>();
  return rows.map((row) => {
    const init: Record<string, unknown> = {};
    for (const [property, convert] of converters) init[property] = convert(row[property]);
    return make(init as Partial<T>);
  });
}

/** Every flag, by key, with its rules in the order they were written. */
export async function leanFlags(m: EntityManager): Promise<Flag[]> {
  const flags = await leanRows(m, Flag, ['key'], (init) => new Flag({ ...init, rules: [] }));
  const byId = new Map(flags.map((f) => [f.id, f]));
  for (const rule of await leanRows(m, FlagRule, ['flagId', 'position'], (init) => new FlagRule(init)))
    byId.get(rule.flagId)?.rules.push(rule);
  return flags;
}
