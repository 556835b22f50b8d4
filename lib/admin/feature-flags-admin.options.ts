import { FeatureFlagsConfigurationError } from '../core/errors';
import { ResolvedAuthThrottle, resolveAuthThrottle } from './auth/auth-failure-throttle';
import { DEFAULT_ADMIN_BODY_LIMIT } from './feature-flags-admin.internal-constants';
import { FeatureFlagsAdminModuleOptions } from './interfaces/feature-flags-admin-options.interface';
import { missingAdminPackages } from './optional-packages';

/** Admin options with their defaults, checked once at boot. */
export interface ResolvedAdminOptions extends Omit<FeatureFlagsAdminModuleOptions, 'authThrottle'> {
  apiTokens: boolean;
  bodyLimit: number;
  authThrottle: ResolvedAuthThrottle | false;
}

/** The shortest bootstrap token accepted. */
export const MIN_ADMIN_TOKEN_LENGTH = 24;

function fail(option: string, problem: string): never {
  throw new FeatureFlagsConfigurationError(option, problem);
}

/** Applies defaults and refuses options that cannot work, naming the option. */
export function resolveAdminOptions(options: FeatureFlagsAdminModuleOptions | undefined): ResolvedAdminOptions {
  const missing = missingAdminPackages();
  if (missing.length > 0) {
    throw new FeatureFlagsConfigurationError(
      'FeatureFlagsAdminModule',
      `needs ${missing.join(' and ')}: npm install ${missing.join(' ')}`,
    );
  }
  const o = options ?? {};
  if (
    o.adminToken !== undefined &&
    (typeof o.adminToken !== 'string' || o.adminToken.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(o.adminToken))
  ) {
    fail('adminToken', `must be a string of at least ${MIN_ADMIN_TOKEN_LENGTH} characters without spaces`);
  }
  if (o.apiTokens !== undefined && typeof o.apiTokens !== 'boolean') fail('apiTokens', 'must be a boolean');
  if (o.authenticate !== undefined && typeof o.authenticate !== 'function')
    fail('authenticate', 'must be a function (request) => AdminPrincipal | null');
  const bodyLimit = o.bodyLimit ?? DEFAULT_ADMIN_BODY_LIMIT;
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1024)
    fail('bodyLimit', `must be an integer number of bytes, at least 1024, got ${JSON.stringify(o.bodyLimit)}`);
  const apiTokens = o.apiTokens ?? true;
  if (o.adminToken === undefined && !apiTokens && o.authenticate === undefined) {
    fail(
      'authenticate',
      'is needed when there is neither an adminToken nor apiTokens: nobody could call the admin API',
    );
  }
  return { ...o, apiTokens, bodyLimit, authThrottle: resolveAuthThrottle(o.authThrottle) };
}
