/** Resolved module options (internal). */
export const FEATURE_FLAGS_OPTIONS = Symbol('FEATURE_FLAGS_OPTIONS');
/** Metadata key of @FeatureFlag (internal). */
export const FEATURE_FLAG_METADATA = 'feature-flags:flag';
