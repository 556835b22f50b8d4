import { MigrationInterface, QueryRunner } from 'typeorm';

/** API tokens record who created them and the principal they act as for the two-person rule (MySQL, MariaDB). */
export class FeatureFlagsTokenPrincipalMysql1735000000000 implements MigrationInterface {
  // The same name on every database (see the initial migration).
  name = 'FeatureFlagsTokenPrincipal1735000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE `feature_flag_api_tokens` ADD `created_by_id` varchar(255) NULL, ADD `principal_id` varchar(255) NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE `feature_flag_api_tokens` DROP COLUMN `principal_id`, DROP COLUMN `created_by_id`',
    );
  }
}
