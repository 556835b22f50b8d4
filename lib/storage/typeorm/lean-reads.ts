import { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { Driver } from 'typeorm/driver/Driver';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import { Flag, FlagRule } from '../records';

/**
 * Reads for the snapshot without TypeORM's entity hydration (most of the time of a load at 10,000 flags):
 * each table's selected columns come back as raw rows, each value converted as hydration converts it, and
 * the records are built directly. How a column converts is decided once per column, not per value.
 */

/** A column's conversion from raw value to the record's; null when the raw value is the record's. */
type Converter = ((value: unknown) => unknown) | null;

const DIGIT_0 = 48;

/** The two digits of `s` at `i` as a number, or NaN when either is not a digit. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - DIGIT_0;
  const b = s.charCodeAt(i + 1) - DIGIT_0;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

/**
 * The instant of SQLite's `YYYY-MM-DD HH:MM:SS.SSS` (or with `T`), read as UTC as TypeORM's SQLite
 * drivers read it, in milliseconds; NaN for any other string (left to the driver). The day's start is
 * parsed by `Date` itself (once per day, in `days`), so that every date the driver accepts is accepted
 * alike; the time of day is arithmetic.
 */
function sqliteInstant(s: string, days: Map<number, number>): number {
  if (s.length !== 23 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return NaN;
  const sep = s.charCodeAt(10);
  if ((sep !== 32 && sep !== 84) || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46)
    return NaN;
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  const msLast = s.charCodeAt(22) - DIGIT_0;
  const ms = twoDigits(s, 20) * 10 + msLast;
  if (!(hour < 24 && minute < 60 && second < 60 && msLast >= 0 && msLast <= 9)) return NaN;
  const dayKey = (twoDigits(s, 0) * 100 + twoDigits(s, 2)) * 10_000 + twoDigits(s, 5) * 100 + twoDigits(s, 8);
  if (dayKey !== dayKey) return NaN;
  let day = days.get(dayKey);
  if (day === undefined) {
    day = new Date(`${s.slice(0, 10)}T00:00:00.000Z`).getTime();
    days.set(dayKey, day);
  }
  return day + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

/** The drivers that store dates as UTC text (TypeORM's AbstractSqliteDriver). */
const SQLITE_DRIVERS: unknown[] = ['sqlite', 'better-sqlite3', 'sqljs'];

/**
 * A date column's conversion: a Date from the driver (PostgreSQL, MySQL) is kept, as the drivers'
 * `prepareHydratedValue` keeps it; SQLite's text is read by `sqliteInstant`; anything else (other text
 * is local time on MySQL) goes through the driver's own conversion.
 */
function dateConverter(driver: Driver, column: ColumnMetadata): Converter {
  const days = new Map<number, number>();
  const sqlite = SQLITE_DRIVERS.includes(driver.options.type);
  return (value) => {
    if (value instanceof Date || value === null || value === undefined) return value;
    if (sqlite && typeof value === 'string') {
      const t = sqliteInstant(value, days);
      if (t === t) return new Date(t);
    }
    return driver.prepareHydratedValue(value, column);
  };
}

const parseJson: Converter = (value) => (typeof value === 'string' ? JSON.parse(value) : value);
const toBoolean: Converter = (value) => (value === null || value === undefined ? value : value ? true : false);
const KEPT_TYPES: unknown[] = ['varchar', 'text', 'int', 'double precision'];
const DATE_TYPES: unknown[] = [Date, 'datetime', 'timestamp', 'timestamp without time zone'];

/**
 * How a column's raw value becomes the record's: JSON text is parsed and booleans made booleans as every
 * driver does, strings and numbers are kept, dates read as above; anything else (and every column with a
 * transformer) goes through the driver's own conversion.
 */
function converterOf(driver: Driver, column: ColumnMetadata): Converter {
  if (column.transformer) return (value) => driver.prepareHydratedValue(value, column);
  if (column.type === 'simple-json') return parseJson;
  if (column.type === 'boolean' || column.type === Boolean) return toBoolean;
  if (KEPT_TYPES.includes(column.type)) return null;
  if (DATE_TYPES.includes(column.type)) return dateConverter(driver, column);
  return (value) => driver.prepareHydratedValue(value, column);
}

/** Rows as arrays of column values, with the columns' names in their order. */
interface RawTable {
  names: string[];
  rows: unknown[][];
}

/** The parts of better-sqlite3's statement and pg's client that array rows need. */
interface SqliteConnection {
  prepare(sql: string): {
    raw(on: boolean): { columns(): { name: string }[]; all(...params: unknown[]): unknown[][] };
  };
}
type TextParser = (text: string) => unknown;
interface PostgresClient {
  getTypeParser(oid: number, format?: string): TextParser;
  query(q: {
    text: string;
    values: unknown[];
    rowMode: 'array';
    types: { getTypeParser(oid: number, format?: string): TextParser };
  }): Promise<{ fields: { name: string }[]; rows: unknown[][] }>;
}

/** PostgreSQL's `timestamp` (without time zone), the type of every date column here. */
const TIMESTAMP_OID = 1114;

/**
 * A `timestamp`'s usual text, `YYYY-MM-DD HH:MM:SS[.fraction]` (year 100 or later), as pg's default parser
 * (postgres-date) reads it: the wall time in local time, the fraction as `1000 * parseFloat(fraction)`
 * milliseconds; undefined for any other text.
 */
function localTimestamp(s: string): Date | undefined {
  const n = s.length;
  if (n < 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32) return undefined;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || (n > 19 && (s.charCodeAt(19) !== 46 || n === 20)))
    return undefined;
  for (let i = 20; i < n; i++) {
    const c = s.charCodeAt(i) - DIGIT_0;
    if (c < 0 || c > 9) return undefined;
  }
  const year = twoDigits(s, 0) * 100 + twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  if (!(year >= 100) || month !== month || day !== day || hour !== hour || minute !== minute || second !== second)
    return undefined;
  return new Date(year, month - 1, day, hour, minute, second, n > 19 ? 1000 * parseFloat(s.slice(19)) : 0);
}

/**
 * The last `timestamp` text a query read and its instant, shared by the query's columns: a record's two
 * dates are often one text (never updated), and so are records written together; a hit costs a string
 * comparison instead of building a local-time Date, most of the parse's cost.
 */
interface LastDate {
  text: string | undefined;
  time: number;
}

/**
 * The client's own parser of a `timestamp` column, or a faster one that reads it the same way: trusted
 * once it has given the same instant as the client's parser for the column's first value (an app may
 * have set its own parser; then the client's is used throughout). `last` holds only what the faster one
 * read, so that a column read by the client's parser never uses it.
 */
function timestampParser(own: TextParser, last: LastDate): TextParser {
  let trusted: boolean | undefined;
  return (text) => {
    if (trusted === undefined) {
      const fast = localTimestamp(text);
      const theirs = own(text);
      trusted = fast !== undefined && theirs instanceof Date && fast.getTime() === theirs.getTime();
      return theirs;
    }
    if (!trusted) return own(text);
    if (text === last.text) return new Date(last.time);
    const fast = localTimestamp(text);
    if (fast === undefined) return own(text);
    last.text = text;
    last.time = fast.getTime();
    return fast;
  };
}

/**
 * Runs a select on the transaction's own connection, rows as arrays instead of objects keyed by column
 * (better-sqlite3's `raw`, pg's `rowMode: 'array'`): a third of the read's cost at 10,000 flags is the
 * drivers building those objects. Other drivers: TypeORM's raw rows, read into arrays.
 */
async function selectArrays(m: EntityManager, sql: string, params: unknown[]): Promise<RawTable> {
  const runner = m.queryRunner;
  const type = m.connection.options.type;
  if (runner && (type === 'better-sqlite3' || type === 'postgres')) {
    const connection: unknown = await runner.connect();
    m.connection.logger.logQuery(sql, params, runner);
    if (type === 'better-sqlite3') {
      // better-sqlite3 binds no booleans: 0 and 1, as TypeORM's query runner passes them.
      const bound = params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
      const statement = (connection as SqliteConnection).prepare(sql).raw(true);
      return { names: statement.columns().map((c) => c.name), rows: statement.all(...bound) };
    }
    const client = connection as PostgresClient;
    const last: LastDate = { text: undefined, time: 0 };
    const types = {
      getTypeParser: (oid: number, format?: string): TextParser =>
        oid === TIMESTAMP_OID && (format ?? 'text') === 'text'
          ? timestampParser(client.getTypeParser(oid, format), last)
          : client.getTypeParser(oid, format),
    };
    const result = await client.query({ text: sql, values: params, rowMode: 'array', types });
    return { names: result.fields.map((f) => f.name), rows: result.rows };
  }
  const objects = (await m.query(sql, params)) as Record<string, unknown>[];
  const names = objects.length > 0 ? Object.keys(objects[0]) : [];
  return { names, rows: objects.map((o) => names.map((name) => o[name])) };
}

/**
 * `SELECT x.column AS property, … FROM table x ORDER BY …` for the columns given, written from the
 * metadata as TypeORM's query builder writes it (names escaped by the driver, a schema-qualified table
 * part by part), without building a query builder for a statement that takes no parameters.
 */
function selectStatement(
  driver: Driver,
  metadata: EntityMetadata,
  columns: ColumnMetadata[],
  orderBy: string[],
): string {
  const e = (name: string): string => driver.escape(name);
  const table = metadata.tablePath
    .split('.')
    .map((part) => (part === '' ? part : e(part)))
    .join('.');
  const select = columns.map((c) => `${e('x')}.${e(c.databaseName)} AS ${e(c.propertyName)}`);
  const order = orderBy.map((property) => `${e('x')}.${e(columnOf(metadata, property).databaseName)} ASC`);
  const sql = `SELECT ${select.join(', ')} FROM ${table} ${e('x')}`;
  return order.length > 0 ? `${sql} ORDER BY ${order.join(', ')}` : sql;
}

function columnOf(metadata: EntityMetadata, property: string): ColumnMetadata {
  const column = metadata.findColumnWithPropertyName(property);
  if (!column) throw new Error(`lean read of ${metadata.name}: no column ${property}`);
  return column;
}

/**
 * The rows stably sorted by the numbers in column `at`, or null when a value there is not a number (then
 * the database sorts). Rows are usually in that order already: one pass tells.
 */
function byNumber(rows: unknown[][], at: number): unknown[][] | null {
  let sorted = true;
  for (let r = 0; r < rows.length; r++) {
    const value = rows[r][at];
    if (typeof value !== 'number' || value !== value) return null;
    if (r > 0 && value < (rows[r - 1][at] as number)) sorted = false;
  }
  return sorted ? rows : rows.sort((a, b) => (a[at] as number) - (b[at] as number));
}

/**
 * Every row of `target`'s table in the order of `orderBy` (property names), as records of its class. With
 * `{ stableBy }` (a numeric column's property, selected or not), the rows come in the table's order and
 * are sorted stably by that column here: for callers to whom only that order matters, it spares the
 * database's sort.
 */
export async function leanRows<T extends ObjectLiteral>(
  m: EntityManager,
  target: EntityTarget<T> & (new () => T),
  orderBy: string[] | { stableBy: string },
): Promise<T[]> {
  const driver = m.connection.driver;
  const metadata = m.connection.getMetadata(target);
  const columns = metadata.columns.filter((c) => c.isSelect);
  let table: RawTable;
  if (Array.isArray(orderBy)) table = await selectArrays(m, selectStatement(driver, metadata, columns, orderBy), []);
  else {
    const sortColumn = columnOf(metadata, orderBy.stableBy);
    const selected = columns.includes(sortColumn) ? columns : [...columns, sortColumn];
    table = await selectArrays(m, selectStatement(driver, metadata, selected, []), []);
    const rows = byNumber(table.rows, table.names.indexOf(orderBy.stableBy));
    table =
      rows !== null
        ? { names: table.names, rows }
        : await selectArrays(m, selectStatement(driver, metadata, selected, [orderBy.stableBy]), []);
  }
  const { names, rows } = table;
  const properties = columns.map((c) => c.propertyName);
  const converters = columns.map((c) => converterOf(driver, c));
  // The column of each property (-1: not returned, as a record built from no rows).
  const at = properties.map((p) => names.indexOf(p));
  if (rows.length > 0 && at.includes(-1))
    throw new Error(`lean read of ${String(target)}: columns ${names} lack ${properties}`);
  const records: T[] = new Array(rows.length);
  const n = properties.length;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const record = new target() as Record<string, unknown>;
    for (let i = 0; i < n; i++) {
      const convert = converters[i];
      record[properties[i]] = convert === null ? row[at[i]] : convert(row[at[i]]);
    }
    records[r] = record as T;
  }
  return records;
}

/**
 * Every flag, by key, with its rules in the order they were written (by position). The rules are read in
 * the table's order and put in position order here, not sorted by flag and position in the database: on
 * SQLite that sort is a third of the rules' read at 10,000 flags, and only the order within a flag matters.
 */
export async function leanFlags(m: EntityManager): Promise<Flag[]> {
  const flags = await leanRows(m, Flag, ['key']);
  const byId = new Map<string, Flag>();
  for (const flag of flags) {
    flag.rules = [];
    byId.set(flag.id, flag);
  }
  for (const rule of await leanRows(m, FlagRule, { stableBy: 'position' })) byId.get(rule.flagId)?.rules.push(rule);
  return flags;
}
