import { MigrationInterface, QueryRunner } from 'typeorm';

/** The admin API's tables on SQLite: the audit log, API tokens and change requests. */
export class FeatureFlagsAdminSchemaSqlite1733000000000 implements MigrationInterface {
  // The same name on every database (see the initial migration).
  name = 'FeatureFlagsAdminSchema1733000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "feature_flag_events" (' +
        '"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, ' +
        '"type" varchar(64) NOT NULL, ' +
        '"actor" varchar(255) NOT NULL, ' +
        '"flag_key" varchar(128), ' +
        '"environment" varchar(64), ' +
        '"before" text, ' +
        '"after" text, ' +
        '"reason" text, ' +
        '"data" text, ' +
        `"created_at" datetime NOT NULL DEFAULT (datetime('now')))`,
    );
    for (const [index, column] of [
      ['IDX_feature_flag_events_type', 'type'],
      ['IDX_feature_flag_events_flag_key', 'flag_key'],
      ['IDX_feature_flag_events_environment', 'environment'],
      ['IDX_feature_flag_events_created_at', 'created_at'],
    ]) {
      await queryRunner.query(`CREATE INDEX "${index}" ON "feature_flag_events" ("${column}")`);
    }

    await queryRunner.query(
      'CREATE TABLE "feature_flag_api_tokens" (' +
        '"id" varchar(36) PRIMARY KEY NOT NULL, ' +
        '"name" varchar(255) NOT NULL, ' +
        '"type" varchar(16) NOT NULL, ' +
        '"environments" text NOT NULL, ' +
        '"secret_hash" varchar(64) NOT NULL, ' +
        '"secret_hint" varchar(16) NOT NULL, ' +
        '"created_by" varchar(255) NOT NULL, ' +
        `"created_at" datetime NOT NULL DEFAULT (datetime('now')), ` +
        '"expires_at" datetime(6), ' +
        '"revoked_at" datetime(6), ' +
        '"revoked_by" varchar(255), ' +
        '"version" integer NOT NULL DEFAULT (1))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_feature_flag_api_tokens_secret_hash" ON "feature_flag_api_tokens" ("secret_hash")',
    );

    await queryRunner.query(
      'CREATE TABLE "feature_flag_change_requests" (' +
        '"id" varchar(36) PRIMARY KEY NOT NULL, ' +
        `"status" varchar(16) NOT NULL DEFAULT ('pending'), ` +
        '"title" varchar(255) NOT NULL, ' +
        '"flag_key" varchar(128), ' +
        '"environments" text NOT NULL, ' +
        '"writes" text NOT NULL, ' +
        '"preview" text, ' +
        '"reason" text, ' +
        '"created_by" varchar(255) NOT NULL, ' +
        '"created_by_id" varchar(255), ' +
        `"created_at" datetime NOT NULL DEFAULT (datetime('now')), ` +
        '"decided_by" varchar(255), ' +
        '"decided_by_id" varchar(255), ' +
        '"decided_at" datetime(6), ' +
        '"decision_reason" text, ' +
        '"version" integer NOT NULL DEFAULT (1), ' +
        `"updated_at" datetime NOT NULL DEFAULT (datetime('now')))`,
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_feature_flag_change_requests_status" ON "feature_flag_change_requests" ("status")',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['feature_flag_change_requests', 'feature_flag_api_tokens', 'feature_flag_events']) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
