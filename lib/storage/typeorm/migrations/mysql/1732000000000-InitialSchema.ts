import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tables in utf8mb4; the unique keys (`key`, `slug`) compare byte for byte (`utf8mb4_bin`) so that, as on
 * PostgreSQL and SQLite, `Checkout` and `checkout` are two flags.
 */
const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/** The five feature-flag tables on MySQL and MariaDB. */
export class FeatureFlagsInitialSchemaMysql1732000000000 implements MigrationInterface {
  // The same name on every database, and for the dialect-neutral FEATURE_FLAG_MIGRATIONS: the migrations table
  // records the step, not the way it was taken.
  name = 'FeatureFlagsInitialSchema1732000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE `feature_flags` (' +
        '`id` varchar(36) NOT NULL, ' +
        '`key` varchar(128) COLLATE utf8mb4_bin NOT NULL, ' +
        '`name` varchar(255) NOT NULL, ' +
        '`description` text NULL, ' +
        "`type` varchar(16) NOT NULL DEFAULT 'boolean', " +
        "`status` varchar(16) NOT NULL DEFAULT 'active', " +
        '`default_enabled` tinyint NOT NULL DEFAULT 0, ' +
        '`default_value` text NULL, ' +
        '`tags` text NOT NULL, ' +
        '`metadata` text NOT NULL, ' +
        '`variants` text NULL, ' +
        '`version` int NOT NULL DEFAULT 1, ' +
        '`created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        '`updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), ' +
        'UNIQUE INDEX `UQ_feature_flags_key` (`key`), ' +
        'PRIMARY KEY (`id`)) ' +
        TABLE_OPTIONS,
    );

    await queryRunner.query(
      'CREATE TABLE `feature_flag_rules` (' +
        '`id` varchar(36) NOT NULL, ' +
        '`flag_id` varchar(36) NOT NULL, ' +
        '`name` varchar(255) NULL, ' +
        '`priority` int NOT NULL DEFAULT 0, ' +
        '`enabled` tinyint NOT NULL DEFAULT 1, ' +
        '`conditions` text NOT NULL, ' +
        '`serve_enabled` tinyint NOT NULL DEFAULT 1, ' +
        '`serve_value` text NULL, ' +
        '`rollout_percentage` double NULL, ' +
        '`position` int NOT NULL DEFAULT 0, ' +
        'INDEX `IDX_feature_flag_rules_flag_id` (`flag_id`), ' +
        'PRIMARY KEY (`id`), ' +
        'CONSTRAINT `FK_feature_flag_rules_flag_id` FOREIGN KEY (`flag_id`) REFERENCES `feature_flags` (`id`) ON DELETE CASCADE ON UPDATE NO ACTION) ' +
        TABLE_OPTIONS,
    );

    await queryRunner.query(
      'CREATE TABLE `feature_flag_environments` (' +
        '`id` varchar(36) NOT NULL, ' +
        '`name` varchar(255) NOT NULL, ' +
        '`slug` varchar(64) COLLATE utf8mb4_bin NOT NULL, ' +
        '`description` text NULL, ' +
        '`parent_id` varchar(36) NULL, ' +
        "`type` varchar(32) NOT NULL DEFAULT 'development', " +
        '`settings` text NOT NULL, ' +
        '`is_active` tinyint NOT NULL DEFAULT 1, ' +
        '`version` int NOT NULL DEFAULT 1, ' +
        '`created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        '`updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), ' +
        'UNIQUE INDEX `UQ_feature_flag_environments_slug` (`slug`), ' +
        'INDEX `IDX_feature_flag_environments_parent_id` (`parent_id`), ' +
        'PRIMARY KEY (`id`), ' +
        'CONSTRAINT `FK_feature_flag_environments_parent_id` FOREIGN KEY (`parent_id`) REFERENCES `feature_flag_environments` (`id`) ON DELETE RESTRICT ON UPDATE NO ACTION) ' +
        TABLE_OPTIONS,
    );

    await queryRunner.query(
      'CREATE TABLE `feature_flag_environment_flags` (' +
        '`id` varchar(36) NOT NULL, ' +
        '`environment_id` varchar(36) NOT NULL, ' +
        '`flag_id` varchar(36) NOT NULL, ' +
        '`enabled` tinyint NULL, ' +
        '`percentage` double NULL, ' +
        '`rules` text NULL, ' +
        '`value` text NULL, ' +
        '`variants` text NULL, ' +
        '`reason` text NULL, ' +
        '`version` int NOT NULL DEFAULT 1, ' +
        '`created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        '`updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), ' +
        'UNIQUE INDEX `UQ_feature_flag_environment_flags_env_flag` (`environment_id`, `flag_id`), ' +
        'INDEX `IDX_feature_flag_environment_flags_flag_id` (`flag_id`), ' +
        'PRIMARY KEY (`id`), ' +
        'CONSTRAINT `FK_feature_flag_environment_flags_environment_id` FOREIGN KEY (`environment_id`) REFERENCES `feature_flag_environments` (`id`) ON DELETE CASCADE ON UPDATE NO ACTION, ' +
        'CONSTRAINT `FK_feature_flag_environment_flags_flag_id` FOREIGN KEY (`flag_id`) REFERENCES `feature_flags` (`id`) ON DELETE CASCADE ON UPDATE NO ACTION) ' +
        TABLE_OPTIONS,
    );

    // parent_id has no foreign key: deleting a parent segment leaves its children pointing at nothing, and
    // such a child matches no one (fail closed), exactly as with the in-memory backend.
    await queryRunner.query(
      'CREATE TABLE `feature_flag_segments` (' +
        '`id` varchar(36) NOT NULL, ' +
        '`key` varchar(64) COLLATE utf8mb4_bin NOT NULL, ' +
        '`name` varchar(255) NOT NULL, ' +
        '`description` text NULL, ' +
        '`conditions` text NOT NULL, ' +
        '`parent_id` varchar(36) NULL, ' +
        '`version` int NOT NULL DEFAULT 1, ' +
        '`created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
        '`updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), ' +
        'UNIQUE INDEX `UQ_feature_flag_segments_key` (`key`), ' +
        'PRIMARY KEY (`id`)) ' +
        TABLE_OPTIONS,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'feature_flag_segments',
      'feature_flag_environment_flags',
      'feature_flag_environments',
      'feature_flag_rules',
      'feature_flags',
    ]) {
      await queryRunner.query(`DROP TABLE \`${table}\``);
    }
  }
}
