/** The admin HTTP API (re-exported by the package's index). */
export { FeatureFlagsAdminModule } from './feature-flags-admin.module';
export {
  OPTIONS_TYPE as FeatureFlagsAdminModuleForRootOptions,
  ASYNC_OPTIONS_TYPE as FeatureFlagsAdminModuleAsyncOptions,
} from './feature-flags-admin.module-definition';
export * from './interfaces/feature-flags-admin-options.interface';
export { API_TOKEN_PREFIX, generateApiTokenSecret, hashApiTokenSecret } from './auth/api-token-secret';
export { CLIENT_KEY_PREFIX, generateClientKeySecret } from './auth/client-key-secret';
export { AdminAccess, CurrentPrincipal } from './auth/admin-access.decorator';
export type { AdminAccessLevel } from './auth/admin-access.decorator';
export { AdminAuthGuard } from './auth/admin-auth.guard';
export { AuthThrottledException, DEFAULT_AUTH_THROTTLE } from './auth/auth-failure-throttle';
export type { AuthThrottleOptions, AuthThrottleStorage } from './auth/auth-failure-throttle';
export { AdminExceptionFilter, toAdminErrorResponse } from './http/admin-exception.filter';
export { MAX_INPUT_DEPTH, MAX_INT32, RESERVED_KEYS } from './http/admin-input-limits';
export {
  ConfirmationRequiredException,
  EnvironmentForbiddenException,
  FlagNotArchivedError,
} from './http/admin.exceptions';
export { isProtectedEnvironment, requiresApproval } from './views/views';
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
} from './views/views';
