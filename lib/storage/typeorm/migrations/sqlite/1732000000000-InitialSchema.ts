import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The five feature-flag tables on SQLite (better-sqlite3 and the other SQLite drivers). Foreign keys are
 * declared inline, the only way SQLite accepts them; TypeORM's SQLite drivers turn enforcement on
 * (`PRAGMA foreign_keys = ON`) when they connect.
 */
export class FeatureFlagsInitialSchemaSqlite1732000000000 implements MigrationInterface {
  // The same name on every database, and for the dialect-neutral FEATURE_FLAG_MIGRATIONS: the migrations table
  // records the step, not the way it was taken.
  name = 'FeatureFlagsInitialSchema1732000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "feature_flags" (' +
        '"id" varchar(36) PRIMARY KEY NOT NULL, ' +
        '"key" varchar(128) NOT NULL, ' +
        '"name" varchar(255) NOT NULL, ' +
        '"description" text, ' +
        `"type" varchar(16) NOT NULL DEFAULT ('boolean'), ` +
        `"status" varchar(16) NOT NULL DEFAULT ('active'), ` +
        '"default_enabled" boolean NOT NULL DEFAULT (0), ' +
        '"default_value" text, ' +
        '"tags" text NOT NULL, ' +
        '"metadata" text NOT NULL, ' +
        '"variants" text, ' +
        '"version" integer NOT NULL DEFAULT (1), ' +
        `"created_at" datetime NOT NULL DEFAULT (datetime('now')), ` +
        `"updated_at" datetime NOT NULL DEFAULT (datetime('now')))`,
    );
    await queryRunner.query('CREATE UNIQUE INDEX "UQ_feature_flags_key" ON "feature_flags" ("key")');

    await queryRunner.query(
      'CREATE TABLE "feature_flag_rules" (' +
        '"id" varchar(36) PRIMARY KEY NOT NULL, ' +
        '"flag_id" varchar(36) NOT NULL, ' +
        '"name" varchar(255), ' +
        '"priority" integer NOT NULL DEFAULT (0), ' +
        '"enabled" boolean NOT NULL DEFAULT (1), ' +
        '"conditions" text NOT NULL, ' +
        '"serve_enabled" boolean NOT NULL DEFAULT (1), ' +
        '"serve_value" text, ' +
        '"rollout_percentage" double precision, ' +
        '"position" integer NOT NULL DEFAULT (0), ' +
        'CONSTRAINT "FK_feature_flag_rules_flag_id" FOREIGN KEY ("flag_id") REFERENCES "feature_flags" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)',
    );
    await queryRunner.query('CREATE INDEX "IDX_feature_flag_rules_flag_id" ON "feature_flag_rules" ("flag_id")');

    await queryRunner.query(
      'CREATE TABLE "feature_flag_environments" (' +
        '"id" varchar(36) PRIMARY KEY NOT NULL, ' +
        '"name" varchar(255) NOT NULL, ' +
        '"slug" varchar(64) NOT NULL, ' +
        '"description" text, ' +
        '"parent_id" varchar(36), ' +
        `"type" varchar(32) NOT NULL DEFAULT ('development'), ` +
        '"settings" text NOT NULL, ' +
        '"is_active" boolean NOT NULL DEFAULT (1), ' +
        '"version" integer NOT NULL DEFAULT (1), ' +
        `"created_at" datetime NOT NULL DEFAULT (datetime('now')), ` +
        `"updated_at" datetime NOT NULL DEFAULT (datetime('now')), ` +
        'CONSTRAINT "FK_feature_flag_environments_parent_id" FOREIGN KEY ("parent_id") REFERENCES "feature_flag_environments" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_feature_flag_environments_slug" ON "feature_flag_environments" ("slug")',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_feature_flag_environments_parent_id" ON "feature_flag_environments" ("parent_id")',
    );

    await queryRunner.query(
      'CREATE TABLE "feature_flag_environment_flags" (' +
        '"id" varchar(36) PRIMARY KEY NOT NULL, ' +
        '"environment_id" varchar(36) NOT NULL, ' +
        '"flag_id" varchar(36) NOT NULL, ' +
        '"enabled" boolean, ' +
        '"percentage" double precision, ' +
        '"rules" text, ' +
        '"value" text, ' +
        '"variants" text, ' +
        '"reason" text, ' +
        '"version" integer NOT NULL DEFAULT (1), ' +
        `"created_at" datetime NOT NULL DEFAULT (datetime('now')), ` +
        `"updated_at" datetime NOT NULL DEFAULT (datetime('now')), ` +
        'CONSTRAINT "FK_feature_flag_environment_flags_environment_id" FOREIGN KEY ("environment_id") REFERENCES "feature_flag_environments" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, ' +
        'CONSTRAINT "FK_feature_flag_environment_flags_flag_id" FOREIGN KEY ("flag_id") REFERENCES "feature_flags" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_feature_flag_environment_flags_env_flag" ON "feature_flag_environment_flags" ("environment_id", "flag_id")',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_feature_flag_environment_flags_flag_id" ON "feature_flag_environment_flags" ("flag_id")',
    );

    // parent_id has no foreign key: deleting a parent segment leaves its children pointing at nothing, and
    // such a child matches no one (fail closed), exactly as with the in-memory backend.
    await queryRunner.query(
      'CREATE TABLE "feature_flag_segments" (' +
        '"id" varchar(36) PRIMARY KEY NOT NULL, ' +
        '"key" varchar(64) NOT NULL, ' +
        '"name" varchar(255) NOT NULL, ' +
        '"description" text, ' +
        '"conditions" text NOT NULL, ' +
        '"parent_id" varchar(36), ' +
        '"version" integer NOT NULL DEFAULT (1), ' +
        `"created_at" datetime NOT NULL DEFAULT (datetime('now')), ` +
        `"updated_at" datetime NOT NULL DEFAULT (datetime('now')))`,
    );
    await queryRunner.query('CREATE UNIQUE INDEX "UQ_feature_flag_segments_key" ON "feature_flag_segments" ("key")');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'feature_flag_segments',
      'feature_flag_environment_flags',
      'feature_flag_environments',
      'feature_flag_rules',
      'feature_flags',
    ]) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
