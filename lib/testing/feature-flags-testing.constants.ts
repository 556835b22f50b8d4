/** The flags given to `FeatureFlagsTestingModule.forRoot()` (internal). */
export const FEATURE_FLAGS_TESTING_FLAGS = Symbol('FEATURE_FLAGS_TESTING_FLAGS');
