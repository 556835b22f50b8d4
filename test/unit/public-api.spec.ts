import * as lib from '../../lib';

/**
 * The package's runtime exports, name by name. A new export is a decision (add it here and to the README's
 * public API); a name leaving is a breaking change.
 */
const PUBLIC_RUNTIME_EXPORTS = [
  'AUDIT_EVENT_TYPES',
  'AdminAuthGuard',
  'AdminExceptionFilter',
  'AlreadyExistsError',
  'ApiToken',
  'AuditEvent',
  'AuthThrottledException',
  'ChangeRequest',
  'ChangeRequestNotPendingError',
  'ClientKey',
  'ConfirmationRequiredException',
  'DisallowedEnvironmentException',
  'Environment',
  'EnvironmentCycleError',
  'EnvironmentDepthError',
  'EnvironmentForbiddenException',
  'EnvironmentInUseError',
  'EnvironmentNotCreatedException',
  'EnvironmentResolver',
  'FEATURE_FLAG_ENTITIES',
  'FEATURE_FLAG_MIGRATIONS',
  'FeatureFlag',
  'FeatureFlagAdminStorage',
  'FeatureFlagEvents',
  'FeatureFlagGuard',
  'FeatureFlagStorage',
  'FeatureFlagsAdminModule',
  'FeatureFlagsConfigurationError',
  'FeatureFlagsError',
  'FeatureFlagsHealthIndicator',
  'FeatureFlagsModule',
  'FeatureFlagsOfrepModule',
  'FeatureFlagsProvider',
  'FeatureFlagsService',
  'FeatureFlagsTesting',
  'FeatureFlagsTestingModule',
  'FeatureFlagsValidationError',
  'Flag',
  'FlagNotArchivedError',
  'FlagRule',
  'FlagSnapshot',
  'InjectFeatureFlagStorage',
  'MemoryStorage',
  'NotFoundError',
  'NothingToPromoteError',
  'Override',
  'RedisStorage',
  'RequestEnvironment',
  'RequestStateService',
  'Segment',
  'StorageUnavailableError',
  'TypeOrmStorage',
  'VersionConflictError',
  'generateApiTokenSecret',
  'generateClientKeySecret',
  'getRequestEnvironment',
  'hashApiTokenSecret',
];

describe('the public API', () => {
  it('exports exactly these runtime names', () => {
    expect(Object.keys(lib).sort()).toEqual([...PUBLIC_RUNTIME_EXPORTS].sort());
  });

  it('exports each of them as a defined value', () => {
    for (const name of PUBLIC_RUNTIME_EXPORTS) expect((lib as Record<string, unknown>)[name], name).toBeDefined();
  });

  it('has one not-found error and one already-exists error, for every kind of record', () => {
    expect(new lib.NotFoundError('change request', 'x')).toMatchObject({
      code: 'NOT_FOUND',
      message: 'No change request "x" exists.',
    });
    expect(new lib.AlreadyExistsError('api token', 'y')).toMatchObject({
      code: 'ALREADY_EXISTS',
      message: 'An api token "y" already exists.',
    });
  });
});
