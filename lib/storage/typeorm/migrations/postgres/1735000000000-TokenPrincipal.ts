import { MigrationInterface, QueryRunner } from 'typeorm';

/** API tokens record who created them and the principal they act as for the two-person rule (PostgreSQL). */
export class FeatureFlagsTokenPrincipalPostgres1735000000000 implements MigrationInterface {
  // The same name on every database (see the initial migration).
  name = 'FeatureFlagsTokenPrincipal1735000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableName(queryRunner);
    await queryRunner.query(`ALTER TABLE ${table} ADD "created_by_id" character varying(255)`);
    await queryRunner.query(`ALTER TABLE ${table} ADD "principal_id" character varying(255)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = tableName(queryRunner);
    await queryRunner.query(`ALTER TABLE ${table} DROP COLUMN "principal_id"`);
    await queryRunner.query(`ALTER TABLE ${table} DROP COLUMN "created_by_id"`);
  }
}

function tableName(queryRunner: QueryRunner): string {
  const schema = queryRunner.connection.driver.schema;
  return schema ? `"${schema.replace(/"/g, '""')}"."feature_flag_api_tokens"` : '"feature_flag_api_tokens"';
}
