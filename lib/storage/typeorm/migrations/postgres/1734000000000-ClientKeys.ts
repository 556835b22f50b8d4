import { MigrationInterface, QueryRunner } from 'typeorm';

/** Environment-scoped client keys (OFREP) on PostgreSQL. */
export class FeatureFlagsClientKeysPostgres1734000000000 implements MigrationInterface {
  // The same name on every database (see the initial migration).
  name = 'FeatureFlagsClientKeys1734000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableNamer(queryRunner);
    await queryRunner.query(
      `CREATE TABLE ${t('feature_flag_client_keys')} (` +
        `"id" character varying(36) NOT NULL, ` +
        `"name" character varying(255) NOT NULL, ` +
        `"environment" character varying(64) NOT NULL, ` +
        `"secret_hash" character varying(64) NOT NULL, ` +
        `"secret_hint" character varying(16) NOT NULL, ` +
        `"created_by" character varying(255) NOT NULL, ` +
        `"created_at" TIMESTAMP NOT NULL DEFAULT now(), ` +
        `"revoked_at" TIMESTAMP(6), ` +
        `"revoked_by" character varying(255), ` +
        `"version" integer NOT NULL DEFAULT 1, ` +
        `CONSTRAINT "PK_feature_flag_client_keys" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_feature_flag_client_keys_environment" ON ${t('feature_flag_client_keys')} ("environment")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_feature_flag_client_keys_secret_hash" ON ${t('feature_flag_client_keys')} ("secret_hash")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ${tableNamer(queryRunner)('feature_flag_client_keys')}`);
  }
}

/** Quotes a table name, qualified with the data source's schema when it sets one. */
function tableNamer(queryRunner: QueryRunner): (table: string) => string {
  const schema = queryRunner.connection.driver.schema;
  return (table) => (schema ? `"${schema.replace(/"/g, '""')}"."${table}"` : `"${table}"`);
}
