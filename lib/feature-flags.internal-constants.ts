/** Resolved module options (internal). */
export const FEATURE_FLAGS_OPTIONS = Symbol('FEATURE_FLAGS_OPTIONS');
/** Metadata key of @FeatureFlag (internal). */
export const FEATURE_FLAG_METADATA = 'feature-flags:flag';
/**
 * A route prefix kept out of environment detection (internal): provided by modules whose routes read
 * `?env=` or the environment header themselves.
 */
export const DETECTION_EXCLUSION = Symbol('FEATURE_FLAGS_DETECTION_EXCLUSION');
/** The graph-shaping options given next to the module options (internal): `{ dataSource }`. */
export const FEATURE_FLAGS_STATIC_OPTIONS = Symbol('FEATURE_FLAGS_STATIC_OPTIONS');
/** The app's TypeOrmModule connection named by `dataSource`, injected by its token (internal). */
export const FEATURE_FLAGS_APP_DATA_SOURCE = Symbol('FEATURE_FLAGS_APP_DATA_SOURCE');
