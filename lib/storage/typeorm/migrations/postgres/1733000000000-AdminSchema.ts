import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The admin API's tables on PostgreSQL: the audit log (`feature_flag_events`), API tokens and change
 * requests. Tables go in the data source's `schema` when it sets one.
 */
export class FeatureFlagsAdminSchemaPostgres1733000000000 implements MigrationInterface {
  // The same name on every database (see the initial migration).
  name = 'FeatureFlagsAdminSchema1733000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableNamer(queryRunner);
    await queryRunner.query(
      `CREATE TABLE ${t('feature_flag_events')} (` +
        `"id" SERIAL NOT NULL, ` +
        `"type" character varying(64) NOT NULL, ` +
        `"actor" character varying(255) NOT NULL, ` +
        `"flag_key" character varying(128), ` +
        `"environment" character varying(64), ` +
        `"before" text, ` +
        `"after" text, ` +
        `"reason" text, ` +
        `"data" text, ` +
        `"created_at" TIMESTAMP NOT NULL DEFAULT now(), ` +
        `CONSTRAINT "PK_feature_flag_events" PRIMARY KEY ("id"))`,
    );
    for (const [index, column] of [
      ['IDX_feature_flag_events_type', 'type'],
      ['IDX_feature_flag_events_flag_key', 'flag_key'],
      ['IDX_feature_flag_events_environment', 'environment'],
      ['IDX_feature_flag_events_created_at', 'created_at'],
    ]) {
      await queryRunner.query(`CREATE INDEX "${index}" ON ${t('feature_flag_events')} ("${column}")`);
    }

    await queryRunner.query(
      `CREATE TABLE ${t('feature_flag_api_tokens')} (` +
        `"id" character varying(36) NOT NULL, ` +
        `"name" character varying(255) NOT NULL, ` +
        `"type" character varying(16) NOT NULL, ` +
        `"environments" text NOT NULL, ` +
        `"secret_hash" character varying(64) NOT NULL, ` +
        `"secret_hint" character varying(16) NOT NULL, ` +
        `"created_by" character varying(255) NOT NULL, ` +
        `"created_at" TIMESTAMP NOT NULL DEFAULT now(), ` +
        `"expires_at" TIMESTAMP(6), ` +
        `"revoked_at" TIMESTAMP(6), ` +
        `"revoked_by" character varying(255), ` +
        `"version" integer NOT NULL DEFAULT 1, ` +
        `CONSTRAINT "PK_feature_flag_api_tokens" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_feature_flag_api_tokens_secret_hash" ON ${t('feature_flag_api_tokens')} ("secret_hash")`,
    );

    await queryRunner.query(
      `CREATE TABLE ${t('feature_flag_change_requests')} (` +
        `"id" character varying(36) NOT NULL, ` +
        `"status" character varying(16) NOT NULL DEFAULT 'pending', ` +
        `"title" character varying(255) NOT NULL, ` +
        `"flag_key" character varying(128), ` +
        `"environments" text NOT NULL, ` +
        `"writes" text NOT NULL, ` +
        `"preview" text, ` +
        `"reason" text, ` +
        `"created_by" character varying(255) NOT NULL, ` +
        `"created_by_id" character varying(255), ` +
        `"created_at" TIMESTAMP NOT NULL DEFAULT now(), ` +
        `"decided_by" character varying(255), ` +
        `"decided_by_id" character varying(255), ` +
        `"decided_at" TIMESTAMP(6), ` +
        `"decision_reason" text, ` +
        `"version" integer NOT NULL DEFAULT 1, ` +
        `"updated_at" TIMESTAMP NOT NULL DEFAULT now(), ` +
        `CONSTRAINT "PK_feature_flag_change_requests" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_feature_flag_change_requests_status" ON ${t('feature_flag_change_requests')} ("status")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableNamer(queryRunner);
    for (const table of ['feature_flag_change_requests', 'feature_flag_api_tokens', 'feature_flag_events']) {
      await queryRunner.query(`DROP TABLE ${t(table)}`);
    }
  }
}

/** Quotes a table name, qualified with the data source's schema when it sets one. */
function tableNamer(queryRunner: QueryRunner): (table: string) => string {
  const schema = queryRunner.connection.driver.schema;
  return (table) => (schema ? `"${schema.replace(/"/g, '""')}"."${table}"` : `"${table}"`);
}
