import { Module } from '@nestjs/common';
import { ConfigurableModuleClass } from './feature-flags-admin.module-definition';

/**
 * The admin HTTP API, imported next to a global `FeatureFlagsModule`: flags per environment, promotion,
 * environments (clone, compare), the audit log, API tokens, client keys and change requests, under `prefix`
 * (default `api/admin`). Every route needs `Authorization: Bearer <token>`. Its controllers, DTOs,
 * class-validator, class-transformer and @nestjs/swagger load when `forRoot` / `forRootAsync` is called,
 * never with the library.
 *
 * @example
 * @Module({
 *   imports: [
 *     FeatureFlagsModule.forRoot({ backend: 'database', connection: process.env.DATABASE_URL, isGlobal: true }),
 *     FeatureFlagsAdminModule.forRoot({ adminToken: process.env.FEATURE_FLAGS_ADMIN_TOKEN }),
 *   ],
 * })
 * export class AppModule {}
 */
@Module({})
export class FeatureFlagsAdminModule extends ConfigurableModuleClass {}
