import { MigrationInterface, QueryRunner } from 'typeorm';

/** Environment-scoped client keys (OFREP) on SQLite. */
export class FeatureFlagsClientKeysSqlite1734000000000 implements MigrationInterface {
  // The same name on every database (see the initial migration).
  name = 'FeatureFlagsClientKeys1734000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "feature_flag_client_keys" (' +
        '"id" varchar(36) PRIMARY KEY NOT NULL, ' +
        '"name" varchar(255) NOT NULL, ' +
        '"environment" varchar(64) NOT NULL, ' +
        '"secret_hash" varchar(64) NOT NULL, ' +
        '"secret_hint" varchar(16) NOT NULL, ' +
        '"created_by" varchar(255) NOT NULL, ' +
        `"created_at" datetime NOT NULL DEFAULT (datetime('now')), ` +
        '"revoked_at" datetime(6), ' +
        '"revoked_by" varchar(255), ' +
        '"version" integer NOT NULL DEFAULT (1))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_feature_flag_client_keys_environment" ON "feature_flag_client_keys" ("environment")',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_feature_flag_client_keys_secret_hash" ON "feature_flag_client_keys" ("secret_hash")',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "feature_flag_client_keys"');
  }
}
