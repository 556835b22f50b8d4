import { MigrationInterface, QueryRunner } from 'typeorm';
import { updateLegacyNames } from '../legacy-names-update';

/**
 * Stored audit events and change requests take the current names of flags' and overrides' events and
 * writes (`feature-created` → `flag-created`, `updateEnvironmentFlag` → `updateOverride`…) (SQLite).
 */
export class FeatureFlagsFlagAndOverrideNamesSqlite1736000000000 implements MigrationInterface {
  // The same name on every database (see the initial migration).
  name = 'FeatureFlagsFlagAndOverrideNames1736000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await updateLegacyNames(queryRunner, (table) => `"${table}"`, 'up');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await updateLegacyNames(queryRunner, (table) => `"${table}"`, 'down');
  }
}
