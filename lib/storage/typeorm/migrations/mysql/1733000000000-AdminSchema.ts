import { MigrationInterface, QueryRunner } from 'typeorm';

/** As in the initial migration: utf8mb4 tables, keys and slugs compared byte for byte. */
const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/** The admin API's tables on MySQL and MariaDB: the audit log, API tokens and change requests. */
export class FeatureFlagsAdminSchemaMysql1733000000000 implements MigrationInterface {
  // The same name on every database (see the initial migration).
  name = 'FeatureFlagsAdminSchema1733000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE `feature_flag_events` (' +
        '`id` int NOT NULL AUTO_INCREMENT, ' +
        '`type` varchar(64) NOT NULL, ' +
        '`actor` varchar(255) NOT NULL, ' +
        '`flag_key` varchar(128) COLLATE utf8mb4_bin NULL, ' +
        '`environment` varchar(64) COLLATE utf8mb4_bin NULL, ' +
        '`before` text NULL, ' +
        '`after` text NULL, ' +
        '`reason` text NULL, ' +
        '`data` text NULL, ' +
        '`created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        'INDEX `IDX_feature_flag_events_type` (`type`), ' +
        'INDEX `IDX_feature_flag_events_flag_key` (`flag_key`), ' +
        'INDEX `IDX_feature_flag_events_environment` (`environment`), ' +
        'INDEX `IDX_feature_flag_events_created_at` (`created_at`), ' +
        'PRIMARY KEY (`id`)) ' +
        TABLE_OPTIONS,
    );

    await queryRunner.query(
      'CREATE TABLE `feature_flag_api_tokens` (' +
        '`id` varchar(36) NOT NULL, ' +
        '`name` varchar(255) NOT NULL, ' +
        '`type` varchar(16) NOT NULL, ' +
        '`environments` text NOT NULL, ' +
        '`secret_hash` varchar(64) COLLATE utf8mb4_bin NOT NULL, ' +
        '`secret_hint` varchar(16) NOT NULL, ' +
        '`created_by` varchar(255) NOT NULL, ' +
        '`created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        '`expires_at` datetime(6) NULL, ' +
        '`revoked_at` datetime(6) NULL, ' +
        '`revoked_by` varchar(255) NULL, ' +
        '`version` int NOT NULL DEFAULT 1, ' +
        'UNIQUE INDEX `UQ_feature_flag_api_tokens_secret_hash` (`secret_hash`), ' +
        'PRIMARY KEY (`id`)) ' +
        TABLE_OPTIONS,
    );

    await queryRunner.query(
      'CREATE TABLE `feature_flag_change_requests` (' +
        '`id` varchar(36) NOT NULL, ' +
        "`status` varchar(16) NOT NULL DEFAULT 'pending', " +
        '`title` varchar(255) NOT NULL, ' +
        '`flag_key` varchar(128) COLLATE utf8mb4_bin NULL, ' +
        '`environments` text NOT NULL, ' +
        '`writes` text NOT NULL, ' +
        '`preview` text NULL, ' +
        '`reason` text NULL, ' +
        '`created_by` varchar(255) NOT NULL, ' +
        '`created_by_id` varchar(255) NULL, ' +
        '`created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        '`decided_by` varchar(255) NULL, ' +
        '`decided_by_id` varchar(255) NULL, ' +
        '`decided_at` datetime(6) NULL, ' +
        '`decision_reason` text NULL, ' +
        '`version` int NOT NULL DEFAULT 1, ' +
        '`updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), ' +
        'INDEX `IDX_feature_flag_change_requests_status` (`status`), ' +
        'PRIMARY KEY (`id`)) ' +
        TABLE_OPTIONS,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['feature_flag_change_requests', 'feature_flag_api_tokens', 'feature_flag_events']) {
      await queryRunner.query(`DROP TABLE \`${table}\``);
    }
  }
}
