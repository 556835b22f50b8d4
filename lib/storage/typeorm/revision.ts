import type { DataSource } from 'typeorm';
import { Environment, Flag, Override, Segment } from '../records';

/**
 * TypeOrmStorage's revision: a fingerprint of the flag tables — per table the row count, the sum of
 * versions and the latest update — which changes with every create, update and delete, whoever made it.
 * Four aggregate queries; the periodic check compares it instead of reloading.
 */

/** The tables whose fingerprint is the revision, in order (see `revision()`). */
const REVISION_TABLES: Function[] = [Flag, Environment, Override, Segment];

/** A timestamp as the drivers return it (Date; SQLite: a UTC string) in milliseconds; '' for none. */
function millisOf(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  if (Object.prototype.toString.call(value) === '[object Date]') return String((value as Date).getTime());
  const s = String(value);
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s.replace(' ', 'T') : `${s.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? s : String(ms);
}

/** The fingerprint of the tables, read from the database. */
export async function tablesRevision(dataSource: DataSource): Promise<string> {
  const parts: string[] = [];
  for (const entity of REVISION_TABLES) {
    const row = await dataSource
      .createQueryBuilder()
      .select('COUNT(*)', 'n')
      .addSelect('COALESCE(SUM(x.version), 0)', 'v')
      .addSelect('MAX(x.updatedAt)', 'u')
      .from(entity, 'x')
      .getRawOne<{ n: unknown; v: unknown; u: unknown }>();
    parts.push(`${Number(row?.n ?? 0)}.${Number(row?.v ?? 0)}.${millisOf(row?.u)}`);
  }
  return parts.join('/');
}
