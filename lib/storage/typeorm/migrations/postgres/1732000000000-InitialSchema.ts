import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The five feature-flag tables on PostgreSQL. Tables go in the data source's `schema` when it sets one,
 * otherwise wherever `search_path` puts them.
 */
export class FeatureFlagsInitialSchemaPostgres1732000000000 implements MigrationInterface {
  // The same name on every database, and for the dialect-neutral FEATURE_FLAG_MIGRATIONS: the migrations table
  // records the step, not the way it was taken.
  name = 'FeatureFlagsInitialSchema1732000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableNamer(queryRunner);
    await queryRunner.query(
      `CREATE TABLE ${t('feature_flags')} (` +
        `"id" character varying(36) NOT NULL, ` +
        `"key" character varying(128) NOT NULL, ` +
        `"name" character varying(255) NOT NULL, ` +
        `"description" text, ` +
        `"type" character varying(16) NOT NULL DEFAULT 'boolean', ` +
        `"status" character varying(16) NOT NULL DEFAULT 'active', ` +
        `"default_enabled" boolean NOT NULL DEFAULT false, ` +
        `"default_value" text, ` +
        `"tags" text NOT NULL, ` +
        `"metadata" text NOT NULL, ` +
        `"variants" text, ` +
        `"version" integer NOT NULL DEFAULT 1, ` +
        `"created_at" TIMESTAMP NOT NULL DEFAULT now(), ` +
        `"updated_at" TIMESTAMP NOT NULL DEFAULT now(), ` +
        `CONSTRAINT "PK_feature_flags" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_feature_flags_key" ON ${t('feature_flags')} ("key")`);

    await queryRunner.query(
      `CREATE TABLE ${t('feature_flag_rules')} (` +
        `"id" character varying(36) NOT NULL, ` +
        `"flag_id" character varying(36) NOT NULL, ` +
        `"name" character varying(255), ` +
        `"priority" integer NOT NULL DEFAULT 0, ` +
        `"enabled" boolean NOT NULL DEFAULT true, ` +
        `"conditions" text NOT NULL, ` +
        `"serve_enabled" boolean NOT NULL DEFAULT true, ` +
        `"serve_value" text, ` +
        `"rollout_percentage" double precision, ` +
        `"position" integer NOT NULL DEFAULT 0, ` +
        `CONSTRAINT "PK_feature_flag_rules" PRIMARY KEY ("id"), ` +
        `CONSTRAINT "FK_feature_flag_rules_flag_id" FOREIGN KEY ("flag_id") REFERENCES ${t('feature_flags')} ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_feature_flag_rules_flag_id" ON ${t('feature_flag_rules')} ("flag_id")`);

    await queryRunner.query(
      `CREATE TABLE ${t('feature_flag_environments')} (` +
        `"id" character varying(36) NOT NULL, ` +
        `"name" character varying(255) NOT NULL, ` +
        `"slug" character varying(64) NOT NULL, ` +
        `"description" text, ` +
        `"parent_id" character varying(36), ` +
        `"type" character varying(32) NOT NULL DEFAULT 'development', ` +
        `"settings" text NOT NULL, ` +
        `"is_active" boolean NOT NULL DEFAULT true, ` +
        `"version" integer NOT NULL DEFAULT 1, ` +
        `"created_at" TIMESTAMP NOT NULL DEFAULT now(), ` +
        `"updated_at" TIMESTAMP NOT NULL DEFAULT now(), ` +
        `CONSTRAINT "PK_feature_flag_environments" PRIMARY KEY ("id"), ` +
        `CONSTRAINT "FK_feature_flag_environments_parent_id" FOREIGN KEY ("parent_id") REFERENCES ${t('feature_flag_environments')} ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_feature_flag_environments_slug" ON ${t('feature_flag_environments')} ("slug")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_feature_flag_environments_parent_id" ON ${t('feature_flag_environments')} ("parent_id")`,
    );

    await queryRunner.query(
      `CREATE TABLE ${t('feature_flag_environment_flags')} (` +
        `"id" character varying(36) NOT NULL, ` +
        `"environment_id" character varying(36) NOT NULL, ` +
        `"flag_id" character varying(36) NOT NULL, ` +
        `"enabled" boolean, ` +
        `"percentage" double precision, ` +
        `"rules" text, ` +
        `"value" text, ` +
        `"variants" text, ` +
        `"reason" text, ` +
        `"version" integer NOT NULL DEFAULT 1, ` +
        `"created_at" TIMESTAMP NOT NULL DEFAULT now(), ` +
        `"updated_at" TIMESTAMP NOT NULL DEFAULT now(), ` +
        `CONSTRAINT "PK_feature_flag_environment_flags" PRIMARY KEY ("id"), ` +
        `CONSTRAINT "FK_feature_flag_environment_flags_environment_id" FOREIGN KEY ("environment_id") REFERENCES ${t('feature_flag_environments')} ("id") ON DELETE CASCADE ON UPDATE NO ACTION, ` +
        `CONSTRAINT "FK_feature_flag_environment_flags_flag_id" FOREIGN KEY ("flag_id") REFERENCES ${t('feature_flags')} ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_feature_flag_environment_flags_env_flag" ON ${t('feature_flag_environment_flags')} ("environment_id", "flag_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_feature_flag_environment_flags_flag_id" ON ${t('feature_flag_environment_flags')} ("flag_id")`,
    );

    // parent_id has no foreign key: deleting a parent segment leaves its children pointing at nothing, and
    // such a child matches no one (fail closed), exactly as with the in-memory backend.
    await queryRunner.query(
      `CREATE TABLE ${t('feature_flag_segments')} (` +
        `"id" character varying(36) NOT NULL, ` +
        `"key" character varying(64) NOT NULL, ` +
        `"name" character varying(255) NOT NULL, ` +
        `"description" text, ` +
        `"conditions" text NOT NULL, ` +
        `"parent_id" character varying(36), ` +
        `"version" integer NOT NULL DEFAULT 1, ` +
        `"created_at" TIMESTAMP NOT NULL DEFAULT now(), ` +
        `"updated_at" TIMESTAMP NOT NULL DEFAULT now(), ` +
        `CONSTRAINT "PK_feature_flag_segments" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_feature_flag_segments_key" ON ${t('feature_flag_segments')} ("key")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableNamer(queryRunner);
    for (const table of [
      'feature_flag_segments',
      'feature_flag_environment_flags',
      'feature_flag_environments',
      'feature_flag_rules',
      'feature_flags',
    ]) {
      await queryRunner.query(`DROP TABLE ${t(table)}`);
    }
  }
}

/** Quotes a table name, qualified with the data source's schema when it sets one. */
function tableNamer(queryRunner: QueryRunner): (table: string) => string {
  const schema = queryRunner.connection.driver.schema;
  return (table) => (schema ? `"${schema.replace(/"/g, '""')}"."${table}"` : `"${table}"`);
}
