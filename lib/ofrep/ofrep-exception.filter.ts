import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { OfrepHttpError } from './ofrep.errors';

/**
 * Answers every error of the OFREP routes in OFREP's shape: its own errors as they are, a body the host's
 * parser could not read as 400 `PARSE_ERROR`, other HTTP exceptions with their status, anything else as a
 * logged 500 `{ errorDetails }` (OFREP's general error).
 */
@Catch()
export class OfrepExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('FeatureFlagsOfrep');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const adapter = this.adapterHost.httpAdapter;
    const response = host.switchToHttp().getResponse();
    let status = 500;
    let body: object = { errorDetails: 'An internal error prevented the evaluation.' };
    if (exception instanceof OfrepHttpError) {
      status = exception.status;
      body = exception.body;
      for (const [name, value] of Object.entries(exception.headers)) adapter.setHeader(response, name, value);
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const message = exception.message;
      body =
        status === 400
          ? { errorCode: 'PARSE_ERROR', errorDetails: `The request body is not valid JSON: ${message}` }
          : { errorDetails: message };
    } else {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    adapter.reply(response, body, status);
  }
}
