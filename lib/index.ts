/**
 * nestjs-feature-flags: the public API, listed name by name (test/unit/public-api.spec.ts pins the runtime
 * names). Anything not listed here is internal and may change without notice.
 */

// The Nest module, its service and the request's environment
export { FeatureFlagsModule } from './feature-flags.module';
export type { ASYNC_OPTIONS_TYPE as FeatureFlagsModuleAsyncOptions } from './feature-flags.module-definition';
export type {
  DisabledFlagInfo,
  EnvironmentDeclaration,
  FeatureFlagsModuleOptions,
  IncomingRequestLike,
  WhenDisabled,
} from './interfaces/feature-flags-module-options.interface';
export { FeatureFlagsService } from './feature-flags.service';
export type {
  OverrideState,
  PromotionOptions,
  PromotionPlan,
  PromotionResult,
  ServedChange,
  ServedFields,
  Widen,
} from './feature-flags.service';
export { EnvironmentResolver } from './environment.resolver';
export { FeatureFlag } from './decorators/feature-flag.decorator';
export { FeatureFlagGuard } from './guards/feature-flag.guard';
export type { FeatureFlagOptions } from './guards/feature-flag.guard';
export { RequestEnvironment } from './decorators/request-environment.decorator';
export { RequestStateService, getRequestEnvironment } from './environment/request-state';
export type { RequestState } from './environment/request-state';
export {
  DisallowedEnvironmentException,
  EnvironmentNotCreatedException,
} from './environment/disallowed-environment.exception';

// Evaluation: the framework-free snapshot and its types
export { FlagSnapshot } from './core/snapshot';
export type {
  Condition,
  EnvironmentDefinition,
  EnvironmentSettings,
  EnvironmentType,
  EvaluationContext,
  EvaluationDetails,
  EvaluationErrorCode,
  EvaluationReason,
  FieldSource,
  FlagDefinition,
  FlagRuleDefinition,
  FlagStatus,
  FlagType,
  FlagValue,
  FlagVariant,
  JsonValue,
  Operator,
  OverridableField,
  OverrideDefinition,
  ResolvedFlag,
  SegmentDefinition,
} from './core/types';
export type { ChangeRevision, SnapshotData, StorageChange, StorageChangeListener } from './core/changes';

// Errors
export {
  AlreadyExistsError,
  EnvironmentCycleError,
  EnvironmentDepthError,
  EnvironmentInUseError,
  FeatureFlagsConfigurationError,
  FeatureFlagsError,
  FeatureFlagsValidationError,
  NotFoundError,
  NothingToPromoteError,
  StorageUnavailableError,
  VersionConflictError,
} from './core/errors';

// Storage
export { FeatureFlagStorage } from './storage/feature-flag-storage.interface';
export type {
  AuditEventFilter,
  AuditEventListener,
  EnvironmentClone,
  EnvironmentInput,
  EnvironmentUpdate,
  FlagFilter,
  FlagInput,
  FlagRuleInput,
  FlagUpdate,
  OverrideInput,
  OverrideRef,
  OverrideUpdate,
  SegmentInput,
  SegmentUpdate,
  StorageWrite,
  StorageWriteResult,
  WriteContext,
} from './storage/feature-flag-storage.interface';
export { InjectFeatureFlagStorage } from './decorators/inject-feature-flag-storage.decorator';
export { MemoryStorage } from './storage/memory.storage';
export { TypeOrmStorage } from './storage/typeorm/typeorm.storage';
export { RedisStorage } from './storage/redis.storage';
export type { EffectiveFlagState } from './storage/redis/effective-state';
export { FEATURE_FLAG_MIGRATIONS } from './storage/typeorm/migrations';
export {
  ApiToken,
  AuditEvent,
  ChangeRequest,
  ClientKey,
  Environment,
  Flag,
  FlagRule,
  Override,
  Segment,
} from './storage/records';
export { FEATURE_FLAG_ENTITIES } from './storage/typeorm/entities';
export type {
  ApiTokenDefinition,
  ApiTokenType,
  AuditEventDefinition,
  ChangeRequestDefinition,
  ChangeRequestStatus,
  ClientKeyDefinition,
} from './storage/records';

// Health, events, several instances
export { FeatureFlagsHealthIndicator } from './health/feature-flags.health-indicator';
export type { FeatureFlagsHealthIndicatorResult } from './health/feature-flags.health-indicator';
export type { FeatureFlagsHealth, FeatureFlagsHealthStatus } from './health/health-report';
export type { SnapshotStatus } from './snapshot/snapshot-sync';
export { FeatureFlagEvents } from './feature-flag-events';
export type { BootstrapData } from './propagation/bootstrap-file';
export type { ChangeBus } from './propagation/change-bus.interface';

// OpenFeature (needs @openfeature/server-sdk once used) and OFREP
export { FeatureFlagsProvider } from './openfeature/feature-flags.provider';
export { FeatureFlagsOfrepModule } from './ofrep/feature-flags-ofrep.module';
export type { OfrepErrorBody } from './ofrep/ofrep.errors';

// Testing your app
export { FeatureFlagsTestingModule } from './testing/feature-flags-testing.module';
export type { FeatureFlagsTestingModuleOptions } from './testing/feature-flags-testing.module';
export { FeatureFlagsTesting } from './testing/feature-flags-testing.service';
export type { TestFlags } from './testing/feature-flags-testing.service';

// Admin HTTP API, audit events
export { FeatureFlagsAdminModule } from './admin/feature-flags-admin.module';
export type { ASYNC_OPTIONS_TYPE as FeatureFlagsAdminModuleAsyncOptions } from './admin/feature-flags-admin.module-definition';
export type {
  AdminAuthenticateHook,
  AdminPrincipal,
  FeatureFlagsAdminModuleOptions,
} from './admin/interfaces/feature-flags-admin-options.interface';
export { AdminAuthGuard } from './admin/auth/admin-auth.guard';
export { AuthThrottledException } from './admin/auth/auth-failure-throttle';
export type { AuthThrottleOptions, AuthThrottleStorage } from './admin/auth/auth-failure-throttle';
export { AdminExceptionFilter } from './admin/http/admin-exception.filter';
export { generateApiTokenSecret, hashApiTokenSecret } from './admin/auth/api-token-secret';
export { generateClientKeySecret } from './admin/auth/client-key-secret';
export {
  ConfirmationRequiredException,
  EnvironmentForbiddenException,
  FlagNotArchivedError,
} from './admin/http/admin.exceptions';
export { FeatureFlagAdminStorage, ChangeRequestNotPendingError } from './storage/feature-flag-admin-storage.interface';
export type {
  ApiTokenInput,
  ChangeRequestApproval,
  ChangeRequestDecision,
  ChangeRequestFilter,
  ChangeRequestInput,
  ClientKeyInput,
} from './storage/feature-flag-admin-storage.interface';
export { AUDIT_EVENT_TYPES } from './storage/audit';
export type { AuditEventType } from './storage/audit';
export type {
  ApiTokenView,
  ChangeRequestView,
  ClientKeyView,
  EnvironmentView,
  EventView,
  FlagInEnvironmentView,
  FlagView,
  FlagWithOverridesView,
  OverrideView,
  PendingChangeView,
} from './admin/views/views';
export type { AdminAccessLevel } from './admin/auth/admin-access.decorator';
