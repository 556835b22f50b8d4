import { Module } from '@nestjs/common';
import { FeatureFlagsAdminModule, FeatureFlagsModule } from 'nestjs-feature-flags';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';

@Module({
  imports: [
    // The library owns its TypeORM 1.x connection (better-sqlite3) and runs its migrations at boot.
    FeatureFlagsModule.forRoot({
      backend: 'database',
      connection: process.env.DATABASE_URL ?? 'sqlite::memory:',
      defaultEnvironment: 'production',
      environments: [
        { slug: 'production', type: 'production' },
        { slug: 'staging', type: 'preproduction', parent: 'production' },
      ],
      contextFactory: (request) => ({ targetingKey: request.headers['x-user-id'] as string | undefined }),
      isGlobal: true,
    }),
    FeatureFlagsAdminModule.forRoot({ adminToken: process.env.FEATURE_FLAGS_ADMIN_TOKEN }),
  ],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
