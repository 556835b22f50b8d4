import { INestApplication, ModuleMetadata } from '@nestjs/common';
import request from 'supertest';
import { DataSource, DataSourceOptions } from 'typeorm';
import {
  EnvironmentDeclaration,
  FeatureFlagsAdminModule,
  FeatureFlagsAdminModuleOptions,
  FeatureFlagsModule,
  FeatureFlagStorage,
} from '../../../lib';
import { ADAPTERS, bootApp, closeApps, StartApp, startExpress } from '../../support/http';
import { SERVICE_URLS } from '../../support/services';

export { ADAPTERS, closeApps, startExpress };

/** The bootstrap admin token of the test apps. */
export const ADMIN_TOKEN = 'test-bootstrap-token-0123456789abcdef';
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
export const ADMIN = bearer(ADMIN_TOKEN);

/**
 * The admin tests' hierarchy, with a setting for each protection: production (requires approval) ←
 * staging ← development, plus `qa` (protected by confirmation only, inheriting from production).
 */
export const ENVIRONMENTS: EnvironmentDeclaration[] = [
  { slug: 'production', type: 'production', settings: { requireApproval: true } },
  { slug: 'staging', type: 'preproduction', parent: 'production', settings: { requireApproval: false } },
  { slug: 'development', type: 'development', parent: 'staging', settings: { debugMode: true } },
  { slug: 'qa', type: 'test', parent: 'production', settings: { protected: true } },
];

/** A database the admin suites run on: SQLite in memory, or a PostgreSQL schema of their own. */
export interface AdminBackend {
  name: string;
  connection: () => string | DataSourceOptions;
  dispose: () => Promise<void>;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}_${(counter++).toString(36)}`;

export function sqliteBackend(): AdminBackend {
  return { name: 'sqlite', connection: () => 'sqlite::memory:', dispose: async () => undefined };
}

/** A PostgreSQL schema of the run's own, dropped by `dispose`. */
export function postgresBackend(): AdminBackend {
  const schemas: string[] = [];
  return {
    name: 'postgres',
    connection: () => {
      const schema = unique('ff_admin');
      schemas.push(schema);
      return `${SERVICE_URLS.postgres}${SERVICE_URLS.postgres.includes('?') ? '&' : '?'}schema=${schema}`;
    },
    dispose: async () => {
      if (schemas.length === 0) return;
      const ds = new DataSource({ type: 'postgres', url: SERVICE_URLS.postgres });
      await ds.initialize();
      try {
        for (const schema of schemas.splice(0)) await ds.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await ds.destroy();
      }
    },
  };
}

export interface AdminAppOptions {
  backend: AdminBackend;
  start?: StartApp;
  admin?: FeatureFlagsAdminModuleOptions & { prefix?: string };
  environments?: EnvironmentDeclaration[];
  imports?: ModuleMetadata['imports'];
}

/** An app with the flags module (global) and the admin module, on the backend's database. */
export async function startAdminApp(options: AdminAppOptions): Promise<INestApplication> {
  return bootApp(options.start ?? startExpress, {
    imports: [
      FeatureFlagsModule.forRoot({
        backend: 'database',
        connection: options.backend.connection(),
        environments: options.environments ?? ENVIRONMENTS,
        isGlobal: true,
      }),
      FeatureFlagsAdminModule.forRoot({ adminToken: ADMIN_TOKEN, ...options.admin }),
      ...(options.imports ?? []),
    ],
  });
}

export const storageOf = (app: INestApplication): FeatureFlagStorage => app.get<FeatureFlagStorage>(FeatureFlagStorage);
export const http = (app: INestApplication) => request(app.getHttpServer());

/** Creates an API token through the API; returns its secret. */
export async function createToken(
  app: INestApplication,
  type: 'admin' | 'read-only',
  environments: string[],
  name = `${type}-${environments.join('+')}-${counter++}`,
): Promise<{ secret: string; id: string }> {
  const res = await http(app).post('/api/admin/api-tokens').set(ADMIN).send({ name, type, environments }).expect(201);
  return { secret: res.body.secret, id: res.body.token.id };
}

/** A flag key unique to the run (tests share one database per suite). */
export const flagKey = (name: string): string => `${name}-${(counter++).toString(36)}`;

/** Creates a flag and its overrides through storage (as seed-style code would). */
export async function seedFlag(
  app: INestApplication,
  key: string,
  overrides: Record<string, Record<string, unknown>> = {},
  input: Record<string, unknown> = {},
): Promise<void> {
  const storage = storageOf(app);
  const flag = await storage.createFlag({ key, ...input });
  for (const [slug, fields] of Object.entries(overrides)) {
    const env = await storage.getEnvironment(slug);
    await storage.createOverride({ environmentId: env!.id, flagId: flag.id, ...fields });
  }
}
