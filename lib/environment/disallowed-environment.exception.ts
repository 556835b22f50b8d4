import { BadRequestException } from '@nestjs/common';

/**
 * A request named an environment it may not select (unknown, inactive or not in `allowedEnvironments`)
 * and the module is configured to reject it. Answers HTTP 400 with the value and the allowed environments.
 */
export class DisallowedEnvironmentException extends BadRequestException {
  constructor(
    readonly environment: string,
    readonly allowedEnvironments: string[],
  ) {
    super({
      statusCode: 400,
      error: 'Bad Request',
      message: `Environment "${environment}" is not allowed. Allowed environments: ${allowedEnvironments.join(', ') || '(none)'}.`,
      environment,
      allowedEnvironments,
    });
  }
}
