import { ForbiddenException, HttpException, HttpStatus, UnauthorizedException } from '@nestjs/common';
import { FeatureFlagsError } from '../../core/errors';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';

/**
 * The admin API's own HTTP errors. Each carries a stable `code`, like the library's typed errors, so that
 * clients can branch on it.
 */

/** 401: no credentials, or credentials that are not (or no longer) valid. */
export class AdminUnauthorizedException extends UnauthorizedException {
  constructor(message: string) {
    super({ statusCode: 401, error: 'Unauthorized', code: 'UNAUTHORIZED', message });
  }
}

/** 403: the principal's token type does not allow the action. */
export class AdminForbiddenException extends ForbiddenException {
  constructor(code: string, message: string, extra: Record<string, unknown> = {}) {
    super({ statusCode: 403, error: 'Forbidden', code, message, ...extra });
  }
}

/**
 * 403: the bootstrap token (`adminToken`) is a setup credential. It creates named API tokens; it can
 * neither request nor approve a change that needs approval.
 */
export class SetupTokenException extends AdminForbiddenException {
  constructor(action: 'request' | 'approve') {
    super(
      'SETUP_TOKEN',
      `The bootstrap token is a setup credential: it cannot ${action === 'request' ? 'request' : 'approve'} a change that needs approval. ` +
        'Create named API tokens with it (POST /api-tokens) — one for each requester and reviewer — or authenticate people with the "authenticate" option.',
    );
  }
}

/** 403: the principal may not read or change an environment (Unleash's environment-scoped tokens). */
export class EnvironmentForbiddenException extends AdminForbiddenException {
  constructor(principal: AdminPrincipal, environment: string, action: 'read' | 'change', what?: string) {
    const scope = principal.environments === '*' ? '*' : principal.environments.join(', ');
    super(
      'ENVIRONMENT_FORBIDDEN',
      environment === '*'
        ? `${what ?? 'This'} affects every environment: it needs a token for every environment ("*"); this one is limited to: ${scope}.`
        : `This token may not ${action} environment "${environment}"; it is limited to: ${scope}.`,
      { environment },
    );
  }
}

/** 428: a change to a protected environment needs `"confirm": true`. */
export class ConfirmationRequiredException extends HttpException {
  constructor(environments: string[]) {
    const names = environments.map((e) => `"${e}"`).join(', ');
    super(
      {
        statusCode: HttpStatus.PRECONDITION_REQUIRED,
        error: 'Precondition Required',
        code: 'CONFIRMATION_REQUIRED',
        message: `${names} ${environments.length > 1 ? 'are protected environments' : 'is a protected environment'}: nothing was changed. Repeat the request with "confirm": true (or ?confirm=true) to apply it.`,
        field: 'confirm',
        environments,
      },
      HttpStatus.PRECONDITION_REQUIRED,
    );
  }
}

/** 413: the body is larger than the admin API accepts. */
export class AdminPayloadTooLargeException extends HttpException {
  constructor(size: number, limit: number) {
    super(
      {
        statusCode: HttpStatus.PAYLOAD_TOO_LARGE,
        error: 'Payload Too Large',
        code: 'PAYLOAD_TOO_LARGE',
        message: `The request body is ${size} bytes; the admin API accepts at most ${limit}.`,
        field: 'body',
        limit,
      },
      HttpStatus.PAYLOAD_TOO_LARGE,
    );
  }
}

/** A flag must be archived before it can be deleted (Unleash's rule). */
export class FlagNotArchivedError extends FeatureFlagsError {
  override readonly code: string = 'FLAG_NOT_ARCHIVED';
  constructor(readonly flagKey: string) {
    super(
      `Flag "${flagKey}" is not archived: archive it first (POST …/feature-flags/${flagKey}/archive), then delete it.`,
    );
  }
}
