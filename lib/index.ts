/**
 * nestjs-feature-flags: the whole public API.
 */
// Evaluation core (framework-free)
export * from './core';
// TypeORM entities
export { Environment, EnvironmentFlag, Flag, FlagRule, Segment } from './storage/records';
export { FEATURE_FLAG_ENTITIES } from './storage/typeorm/entities';
export { ApiToken, AuditEvent, ChangeRequest, ClientKey, API_TOKEN_TYPES, CHANGE_REQUEST_STATUSES } from './storage/records';
export type { ApiTokenDefinition, ApiTokenType, AuditEventDefinition, ChangeRequestDefinition, ChangeRequestStatus, ClientKeyDefinition } from './storage/records';
// Storage
export * from './storage/feature-flag-storage.interface';
export * from './storage/feature-flag-admin-storage.interface';
export { AUDIT_EVENT_TYPES, SYSTEM_ACTOR } from './storage/audit';
export type { AuditEventType } from './storage/audit';
export { MemoryStorage } from './storage/memory.storage';
export { TypeOrmStorage } from './storage/typeorm/typeorm.storage';
export { RedisStorage } from './storage/redis.storage';
export type { EffectiveFlagState } from './storage/redis/effective-state';
export { dataSourceOptionsFromUrl, featureFlagDataSourceOptions } from './storage/typeorm/connection';
export { FEATURE_FLAG_MIGRATIONS } from './storage/typeorm/migrations';
// Nest module
export { FeatureFlagsModule } from './feature-flags.module';
export { OPTIONS_TYPE as FeatureFlagsModuleForRootOptions, ASYNC_OPTIONS_TYPE as FeatureFlagsModuleAsyncOptions } from './feature-flags.module-definition';
export * from './interfaces/feature-flags-module-options.interface';
export { FeatureFlagsService } from './feature-flags.service';
export type { OverrideState, PromotionOptions, PromotionPlan, PromotionResult, Widen } from './feature-flags.service';
export { EnvironmentResolver } from './environment.resolver';
export { FeatureFlag } from './decorators/feature-flag.decorator';
export { FeatureFlagGuard } from './guards/feature-flag.guard';
export type { FeatureFlagOptions } from './guards/feature-flag.guard';
export { RequestEnvironment } from './decorators/request-environment.decorator';
export { InjectFeatureFlagStorage } from './decorators/inject-feature-flag-storage.decorator';
export { RequestStateService, getRequestEnvironment } from './environment/request-state';
export type { RequestState } from './environment/request-state';
export { DisallowedEnvironmentException, EnvironmentNotCreatedException } from './environment/disallowed-environment.exception';
export { EnvironmentMiddleware } from './environment/environment.middleware';
// OpenFeature (needs @openfeature/server-sdk once used)
export { FeatureFlagsProvider, FEATURE_FLAGS_PROVIDER_NAME } from './openfeature/feature-flags.provider';
// OFREP (OpenFeature Remote Evaluation Protocol) with environment-scoped client keys
export { FeatureFlagsOfrepModule, OFREP_PATH } from './ofrep/feature-flags-ofrep.module';
export { OfrepHttpError } from './ofrep/ofrep.errors';
export type { OfrepErrorBody } from './ofrep/ofrep.errors';
// Testing your app
export { FeatureFlagsTestingModule, TESTING_ENVIRONMENTS } from './testing/feature-flags-testing.module';
export type { FeatureFlagsTestingModuleOptions } from './testing/feature-flags-testing.module';
export { FeatureFlagsTesting } from './testing/feature-flags-testing.service';
export type { TestFlags } from './testing/feature-flags-testing.service';
// Several instances, health
export { FeatureFlagsHealthIndicator } from './health/feature-flags.health-indicator';
export { FeatureFlagEvents } from './feature-flag-events';
export type { FeatureFlagsHealthIndicatorResult } from './health/feature-flags.health-indicator';
export type { FeatureFlagsHealth, FeatureFlagsHealthStatus } from './health/health-report';
export type { SnapshotStatus } from './snapshot/snapshot-sync';
export { BOOTSTRAP_FORMAT, readBootstrapFile, writeBootstrapFile } from './propagation/bootstrap-file';
export type { BootstrapData } from './propagation/bootstrap-file';
export type { ChangeBus } from './propagation/change-bus.interface';
// Admin HTTP API, audit events
export * from './admin';
