/** Resolved admin options (internal). */
export const FEATURE_FLAGS_ADMIN_OPTIONS = Symbol('FEATURE_FLAGS_ADMIN_OPTIONS');
/** Metadata key of @AdminAccess (internal). */
export const ADMIN_ACCESS_METADATA = 'feature-flags:admin-access';
/** The default mount point of the admin routes. */
export const DEFAULT_ADMIN_PREFIX = 'api/admin';
/** The default admin body limit, in bytes. */
export const DEFAULT_ADMIN_BODY_LIMIT = 64 * 1024;

/** The admin API's mount point, normalized (`api/admin`). */
export const FEATURE_FLAGS_ADMIN_PREFIX = Symbol('FEATURE_FLAGS_ADMIN_PREFIX');
/** The admin module's options as given to forRoot / forRootAsync (internal). */
export const FEATURE_FLAGS_ADMIN_MODULE_OPTIONS = Symbol('FEATURE_FLAGS_ADMIN_MODULE_OPTIONS');
