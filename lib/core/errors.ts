/**
 * Typed errors thrown by storage, the resolver and the service (never by evaluation, which reports errors
 * in its result instead). The HTTP layer maps each `code` to a 4xx status.
 */
export class FeatureFlagsError extends Error {
  /** A stable, machine-readable code. */
  readonly code: string = 'FEATURE_FLAGS_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that breaks a rule of the model; `field` names the offending field. */
export class FeatureFlagsValidationError extends FeatureFlagsError {
  override readonly code: string = 'VALIDATION_FAILED';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** The kinds of record a store holds, as errors name them. */
export type RecordKind =
  'flag' | 'environment' | 'override' | 'segment' | 'api token' | 'client key' | 'change request';

/** A record (flag, environment, override, segment, API token, client key, change request) that does not exist. */
export class NotFoundError extends FeatureFlagsError {
  override readonly code: string = 'NOT_FOUND';
  constructor(
    readonly entity: RecordKind,
    readonly identifier: string,
  ) {
    super(`No ${entity} "${identifier}" exists.`);
  }
}

/** A create that would duplicate a unique key, slug, id or secret. */
export class AlreadyExistsError extends FeatureFlagsError {
  override readonly code: string = 'ALREADY_EXISTS';
  constructor(
    readonly entity: RecordKind,
    readonly identifier: string,
  ) {
    super(`${/^[aeiou]/.test(entity) ? 'An' : 'A'} ${entity} "${identifier}" already exists.`);
  }
}

/** An update based on a version that is no longer current (someone else wrote first). */
export class VersionConflictError extends FeatureFlagsError {
  override readonly code: string = 'VERSION_CONFLICT';
  constructor(
    readonly entity: string,
    readonly identifier: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      `The ${entity} "${identifier}" is at version ${actualVersion}, not ${expectedVersion}: it changed since it was read. Read it again and retry.`,
    );
  }
}

/** Environments must form a forest: a parent that would close a loop is refused. */
export class EnvironmentCycleError extends FeatureFlagsError {
  override readonly code: string = 'ENVIRONMENT_CYCLE';
  constructor(
    readonly slug: string,
    readonly parentSlug: string,
  ) {
    super(
      `Environment "${slug}" cannot inherit from "${parentSlug}": "${parentSlug}" already inherits from "${slug}".`,
    );
  }
}

/** An inheritance chain longer than MAX_ENVIRONMENT_DEPTH. */
export class EnvironmentDepthError extends FeatureFlagsError {
  override readonly code: string = 'ENVIRONMENT_TOO_DEEP';
  constructor(
    readonly slug: string,
    readonly maxDepth: number,
  ) {
    super(
      `Environment "${slug}" would sit more than ${maxDepth} levels deep; inheritance chains are limited to ${maxDepth} environments.`,
    );
  }
}

/** An environment that other environments inherit from cannot be deleted. */
export class EnvironmentInUseError extends FeatureFlagsError {
  override readonly code: string = 'ENVIRONMENT_IN_USE';
  constructor(
    readonly slug: string,
    readonly children: string[],
  ) {
    super(
      `Environment "${slug}" cannot be deleted: ${children.map((c) => `"${c}"`).join(', ')} inherit from it. Re-parent or delete them first.`,
    );
  }
}

/** A promotion whose source environment has no override of the flag. */
export class NothingToPromoteError extends FeatureFlagsError {
  override readonly code: string = 'NOTHING_TO_PROMOTE';
  constructor(
    readonly flagKey: string,
    readonly from: string,
  ) {
    super(`No override for "${flagKey}" in "${from}": there is nothing to promote.`);
  }
}

/** The store cannot be reached; writes fail fast with this error. */
export class StorageUnavailableError extends FeatureFlagsError {
  override readonly code: string = 'STORAGE_UNAVAILABLE';
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

/** A module option that cannot work; thrown at boot. `option` names it. */
export class FeatureFlagsConfigurationError extends FeatureFlagsError {
  override readonly code: string = 'INVALID_CONFIGURATION';
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`FeatureFlagsModule: option "${option}" ${problem}`);
  }
}
