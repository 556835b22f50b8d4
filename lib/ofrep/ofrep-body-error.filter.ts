import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Type } from '@nestjs/common';
import { ApplicationConfig, BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';

const FILTER_CATCH_EXCEPTIONS = '__filterCatchExceptions__';
const SINGLE = /\/ofrep\/v1\/evaluate\/flags\/([^/?#]+)\/?$/;
const BULK = /\/ofrep\/v1\/evaluate\/flags\/?$/;

/**
 * The host's body parser refuses malformed JSON before any route (and its filters) runs: on the OFREP routes
 * this global filter answers it as OFREP's 400 `PARSE_ERROR` (with the flag's `key` on the single-flag
 * route). Every other error, and every other path, goes on to the global filter Nest would have chosen
 * without this one (the admin API's, the app's own), else Nest's default answer.
 */
@Catch()
export class OfrepBodyErrorFilter implements ExceptionFilter {
  private fallback: BaseExceptionFilter | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ApplicationConfig,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() === 'http' && exception instanceof HttpException && exception.getStatus() === 400) {
      const adapter = this.adapterHost.httpAdapter;
      const request = host.switchToHttp().getRequest<unknown>();
      const path = String(adapter.getRequestUrl(request) ?? '').split('?')[0];
      const single = SINGLE.exec(path);
      if (single || BULK.test(path)) {
        const errorDetails = `The request body is not valid JSON: ${exception.message}`;
        let key: string | undefined;
        if (single) {
          try {
            key = decodeURIComponent(single[1]);
          } catch {
            key = single[1];
          }
        }
        const response = host.switchToHttp().getResponse<unknown>();
        adapter.setHeader(response, 'Cache-Control', 'no-store');
        adapter.reply(
          response,
          key === undefined
            ? { errorCode: 'PARSE_ERROR', errorDetails }
            : { key, errorCode: 'PARSE_ERROR', errorDetails },
          400,
        );
        return;
      }
    }
    this.delegate(exception, host);
  }

  /** Hands an error to the next global filter (Nest tries them last-registered first), else Nest's default. */
  private delegate(exception: unknown, host: ArgumentsHost): void {
    const globals = [...this.config.getGlobalFilters()].reverse();
    const after = globals.slice(globals.indexOf(this) + 1);
    for (const filter of after) {
      const types = (Reflect.getMetadata(FILTER_CATCH_EXCEPTIONS, filter.constructor) ?? []) as Type<unknown>[];
      if (types.length === 0 || types.some((t) => exception instanceof t)) return void filter.catch(exception, host);
    }
    this.fallback ??= new BaseExceptionFilter(this.adapterHost.httpAdapter);
    this.fallback.catch(exception, host);
  }
}
