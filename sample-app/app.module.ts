import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { resolve } from 'node:path';
import { FeatureFlagsAdminModule, FeatureFlagsModule, FeatureFlagsOfrepModule, IncomingRequestLike } from '../lib';
import { sampleAdminToken } from './admin-token';
import { AppController } from './app.controller';
import { SampleFlagsSeeder } from './sample-flags.seeder';

function header(request: IncomingRequestLike, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The sample application: an embedded SQLite file by default, PostgreSQL or MySQL with DATABASE_URL;
 * REDIS_URL, FEATURE_FLAGS_RECONCILE_MS and FEATURE_FLAGS_BOOTSTRAP_FILE for several instances.
 */
@Module({
  imports: [
    FeatureFlagsModule.forRoot({
      backend: 'database',
      connection: process.env.DATABASE_URL ?? `sqlite:${resolve(process.cwd(), 'sample-app/data/flags.db')}`,
      defaultEnvironment: process.env.FEATURE_FLAGS_DEFAULT_ENVIRONMENT ?? 'production',
      environmentHeader: 'X-Environment',
      environmentQueryParam: 'env',
      // The multi-environment guide's hierarchy: production ← staging ← development.
      environments: [
        {
          slug: 'production',
          name: 'Production',
          type: 'production',
          description: 'Live production environment',
          settings: { requireApproval: true },
        },
        {
          slug: 'staging',
          name: 'Staging',
          type: 'preproduction',
          parent: 'production',
          settings: { requireApproval: false },
        },
        // Development turns on every flag nobody decided on (flags auto-enable in development).
        {
          slug: 'development',
          name: 'Development',
          type: 'development',
          parent: 'staging',
          settings: { debugMode: true, defaultEnabled: true },
        },
      ],
      contextFactory: (request) => ({
        targetingKey: header(request, 'x-user-id'),
        country: header(request, 'x-country'),
      }),
      // Several instances: REDIS_URL carries changes over pub/sub (else LISTEN/NOTIFY on PostgreSQL).
      redis: process.env.REDIS_URL || undefined,
      redisPrefix: process.env.FEATURE_FLAGS_REDIS_PREFIX || undefined,
      reconcileIntervalMs: process.env.FEATURE_FLAGS_RECONCILE_MS
        ? Number(process.env.FEATURE_FLAGS_RECONCILE_MS)
        : undefined,
      // Start from this export when the store is down at boot; kept fresh after every full load.
      bootstrapFile: process.env.FEATURE_FLAGS_BOOTSTRAP_FILE || undefined,
      writeBootstrapFile: Boolean(process.env.FEATURE_FLAGS_BOOTSTRAP_FILE),
      isGlobal: true,
    }),
    TerminusModule.forRoot({ logger: false }),
    // The admin HTTP API under /api/admin (Swagger UI at /docs, see main.ts).
    FeatureFlagsAdminModule.forRootAsync({
      useFactory: () => ({ adminToken: sampleAdminToken() }),
    }),
    // OFREP at the root (/ofrep/v1/…), for OpenFeature clients holding a client key (POST /api/admin/client-keys).
    FeatureFlagsOfrepModule,
  ],
  controllers: [AppController],
  providers: [SampleFlagsSeeder],
})
export class AppModule {}
