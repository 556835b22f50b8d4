import { MigrationInterface, QueryRunner } from 'typeorm';

/** API tokens record who created them and the principal they act as for the two-person rule (SQLite). */
export class FeatureFlagsTokenPrincipalSqlite1735000000000 implements MigrationInterface {
  // The same name on every database (see the initial migration).
  name = 'FeatureFlagsTokenPrincipal1735000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "feature_flag_api_tokens" ADD COLUMN "created_by_id" varchar(255)');
    await queryRunner.query('ALTER TABLE "feature_flag_api_tokens" ADD COLUMN "principal_id" varchar(255)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "feature_flag_api_tokens" DROP COLUMN "principal_id"');
    await queryRunner.query('ALTER TABLE "feature_flag_api_tokens" DROP COLUMN "created_by_id"');
  }
}
