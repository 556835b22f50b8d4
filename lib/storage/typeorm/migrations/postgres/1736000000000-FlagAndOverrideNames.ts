import { MigrationInterface, QueryRunner } from 'typeorm';
import { updateLegacyNames } from '../legacy-names-update';

/**
 * Stored audit events and change requests take the current names of flags' and overrides' events and
 * writes (`feature-created` → `flag-created`, `updateEnvironmentFlag` → `updateOverride`…) (PostgreSQL).
 * Tables are in the data source's `schema` when it sets one.
 */
export class FeatureFlagsFlagAndOverrideNamesPostgres1736000000000 implements MigrationInterface {
  // The same name on every database (see the initial migration).
  name = 'FeatureFlagsFlagAndOverrideNames1736000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await updateLegacyNames(queryRunner, tableNamer(queryRunner), 'up');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await updateLegacyNames(queryRunner, tableNamer(queryRunner), 'down');
  }
}

function tableNamer(queryRunner: QueryRunner): (table: string) => string {
  const schema = queryRunner.connection.driver.schema;
  return (table) => (schema ? `"${schema.replace(/"/g, '""')}"."${table}"` : `"${table}"`);
}
