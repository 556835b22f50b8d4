import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/** Environment-scoped client keys (OFREP) on MySQL and MariaDB. */
export class FeatureFlagsClientKeysMysql1734000000000 implements MigrationInterface {
  // The same name on every database (see the initial migration).
  name = 'FeatureFlagsClientKeys1734000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE `feature_flag_client_keys` (' +
        '`id` varchar(36) NOT NULL, ' +
        '`name` varchar(255) NOT NULL, ' +
        '`environment` varchar(64) NOT NULL, ' +
        '`secret_hash` varchar(64) COLLATE utf8mb4_bin NOT NULL, ' +
        '`secret_hint` varchar(16) NOT NULL, ' +
        '`created_by` varchar(255) NOT NULL, ' +
        '`created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        '`revoked_at` datetime(6) NULL, ' +
        '`revoked_by` varchar(255) NULL, ' +
        '`version` int NOT NULL DEFAULT 1, ' +
        'INDEX `IDX_feature_flag_client_keys_environment` (`environment`), ' +
        'UNIQUE INDEX `UQ_feature_flag_client_keys_secret_hash` (`secret_hash`), ' +
        'PRIMARY KEY (`id`)) ' +
        TABLE_OPTIONS,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE `feature_flag_client_keys`');
  }
}
