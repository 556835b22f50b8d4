import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FEATURE_FLAG_ENTITIES, FEATURE_FLAG_MIGRATIONS, FeatureFlagsAdminModule, FeatureFlagsModule } from 'nestjs-feature-flags';
import { AppController } from './app.controller';
import { AppService } from './app.service';

@Module({
  imports: [
    // The app's own TypeORM 0.3 connection, shared with the library.
    TypeOrmModule.forRoot({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [...FEATURE_FLAG_ENTITIES],
      migrations: [...FEATURE_FLAG_MIGRATIONS],
      migrationsRun: true,
    }),
    FeatureFlagsModule.forRoot({
      backend: 'database',
      dataSource: 'default',
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
