import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FeatureFlagsError } from '../../core/errors';
import { AuthThrottledException } from '../auth/auth-failure-throttle';

/** The HTTP status of each typed error code (see lib/core/errors.ts and the admin storage's errors). */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  VALIDATION_FAILED: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  VERSION_CONFLICT: 409,
  NOTHING_TO_PROMOTE: 409,
  ENVIRONMENT_CYCLE: 409,
  ENVIRONMENT_IN_USE: 409,
  ENVIRONMENT_TOO_DEEP: 409,
  CHANGE_REQUEST_NOT_PENDING: 409,
  FLAG_NOT_ARCHIVED: 409,
  STORAGE_UNAVAILABLE: 503,
};

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** What an error becomes over HTTP. */
export interface AdminErrorResponse {
  status: number;
  body: Record<string, unknown>;
}

/** The fields of a typed error worth giving the client (besides code and message). */
const DETAILS = [
  'field',
  'problem',
  'entity',
  'identifier',
  'expectedVersion',
  'actualVersion',
  'flagKey',
  'from',
  'slug',
  'parentSlug',
  'children',
  'maxDepth',
  'status',
  'id',
];

/** Maps any error to a JSON error response: typed errors by their code, HTTP exceptions as they are. */
export function toAdminErrorResponse(exception: unknown): AdminErrorResponse {
  if (exception instanceof FeatureFlagsError) {
    const status = ERROR_STATUS[exception.code] ?? 500;
    if (status >= 500 && exception.code !== 'STORAGE_UNAVAILABLE') return internalError();
    const body: Record<string, unknown> = {
      statusCode: status,
      error: REASONS[status],
      code: exception.code,
      message: exception.message,
    };
    for (const key of DETAILS) {
      const value = (exception as unknown as Record<string, unknown>)[key];
      if (value !== undefined) body[key === 'status' ? 'currentStatus' : key] = value;
    }
    return { status, body };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const body =
      typeof response === 'string'
        ? { statusCode: status, error: REASONS[status] ?? 'Error', message: response }
        : { statusCode: status, error: REASONS[status] ?? 'Error', ...(response as Record<string, unknown>) };
    return { status, body };
  }
  return internalError();
}

function internalError(): AdminErrorResponse {
  return {
    status: 500,
    body: { statusCode: 500, error: REASONS[500], code: 'INTERNAL_ERROR', message: 'Internal server error' },
  };
}

/**
 * Answers every error of the admin routes with JSON: the library's typed errors by their code (400 with
 * `field` for invalid input, 404, 409 for conflicts of every kind, 503 when the store is down), HTTP
 * exceptions as they are, anything else as a logged 500. Scoped to the admin controllers.
 */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('FeatureFlagsAdmin');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { status, body } = toAdminErrorResponse(exception);
    if (status === HttpStatus.INTERNAL_SERVER_ERROR)
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    const adapter = this.adapterHost.httpAdapter;
    const response = host.switchToHttp().getResponse();
    if (status === HttpStatus.UNAUTHORIZED)
      adapter.setHeader(response, 'WWW-Authenticate', 'Bearer realm="feature-flags-admin"');
    if (exception instanceof AuthThrottledException)
      adapter.setHeader(response, 'Retry-After', String(exception.retryAfter));
    adapter.reply(response, body, status);
  }
}
