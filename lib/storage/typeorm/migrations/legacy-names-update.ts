import { QueryRunner } from 'typeorm';
import { LEGACY_EVENT_TYPES, legacyWritesJsonReplacements } from '../../legacy-names';

/**
 * The statements of the `FlagAndOverrideNames` migration, the same on every database but for how a table
 * is named: audit events of the old types (`feature-created`, `feature-override-updated`…) take the
 * current names (`flag-created`, `override-updated`…), and the writes kept by change requests the current
 * op names (`updateOverride`…). `down` restores the old names.
 */
export async function updateLegacyNames(
  queryRunner: QueryRunner,
  table: (name: string) => string,
  direction: 'up' | 'down',
): Promise<void> {
  const swap = ([a, b]: [string, string]): [string, string] => (direction === 'up' ? [a, b] : [b, a]);
  const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
  for (const [from, to] of Object.entries(LEGACY_EVENT_TYPES).map(swap)) {
    await queryRunner.query(
      `UPDATE ${table('feature_flag_events')} SET ${quote(queryRunner, 'type')} = ${literal(to)} WHERE ${quote(queryRunner, 'type')} = ${literal(from)}`,
    );
  }
  const writes = quote(queryRunner, 'writes');
  // Assigning updated_at its own value keeps MySQL's ON UPDATE from touching it: only the names change.
  const updatedAt = quote(queryRunner, 'updated_at');
  for (const [from, to] of legacyWritesJsonReplacements().map(swap)) {
    await queryRunner.query(
      `UPDATE ${table('feature_flag_change_requests')} SET ${writes} = REPLACE(${writes}, ${literal(from)}, ${literal(to)}), ${updatedAt} = ${updatedAt} WHERE ${writes} LIKE ${literal(`%${from}%`)}`,
    );
  }
}

function quote(queryRunner: QueryRunner, column: string): string {
  return queryRunner.connection.driver.escape(column);
}
