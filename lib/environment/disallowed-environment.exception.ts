import { BadRequestException, ServiceUnavailableException } from '@nestjs/common';

/** The most characters of a refused environment name an answer repeats. */
export const MAX_ECHOED_ENVIRONMENT_LENGTH = 64;

/** A value as an answer may repeat it: at most MAX_ECHOED_ENVIRONMENT_LENGTH characters, then `…`. */
function echoed(value: string): string {
  return value.length > MAX_ECHOED_ENVIRONMENT_LENGTH ? `${value.slice(0, MAX_ECHOED_ENVIRONMENT_LENGTH)}…` : value;
}

/**
 * A request named an environment it may not select (unknown, inactive or not in `allowedEnvironments`)
 * and the module is configured to reject it. Answers HTTP 400 with `code` ENVIRONMENT_NOT_ALLOWED, the
 * header or query parameter that named it (`field`), the value once (truncated to 64 characters) and
 * the allowed environments.
 */
export class DisallowedEnvironmentException extends BadRequestException {
  /** The refused value, truncated to 64 characters. */
  readonly environment: string;

  constructor(
    environment: string,
    readonly allowedEnvironments: string[],
    /** Where the request named it: the environment header or the query parameter. */
    readonly field = 'environment',
  ) {
    const value = echoed(environment);
    super({
      statusCode: 400,
      error: 'Bad Request',
      code: 'ENVIRONMENT_NOT_ALLOWED',
      message: `The environment named by ${field} is not allowed. Allowed environments: ${allowedEnvironments.join(', ') || '(none)'}.`,
      field,
      environment: value,
      allowedEnvironments,
    });
    this.environment = value;
  }
}

/**
 * A request named an environment the module options name (`allowedEnvironments`, `defaultEnvironment`)
 * that has not been created yet. Answers HTTP 503 (the server is not ready for it; nothing is wrong with
 * the request): `{"statusCode":503,"error":"Service Unavailable","code":"ENVIRONMENT_NOT_CREATED",
 * "message":…,"field":"header \"x-environment\"","environment":"staging","availableEnvironments":[…]}`. Once the environment is created
 * (storage or admin API) requests for it work, without a restart.
 */
export class EnvironmentNotCreatedException extends ServiceUnavailableException {
  constructor(
    readonly environment: string,
    readonly availableEnvironments: string[],
    /** Where the request named it: the environment header or the query parameter. */
    readonly field = 'environment',
  ) {
    super({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'ENVIRONMENT_NOT_CREATED',
      message: `Environment "${environment}" is configured but has not been created yet: create it (storage.createEnvironment or POST /api/admin/environments) and it is served at once. Available now: ${availableEnvironments.join(', ') || '(none)'}.`,
      field,
      environment,
      availableEnvironments,
    });
  }
}
