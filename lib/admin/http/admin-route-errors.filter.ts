import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, RequestMethod, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ApplicationConfig, BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';

/** An admin route, as the 404/405 answers match paths against it. */
interface AdminRoute {
  method: string;
  pattern: RegExp;
}

const FILTER_CATCH_EXCEPTIONS = '__filterCatchExceptions__';

function routesOf(controllers: readonly Type<unknown>[], prefix: string): AdminRoute[] {
  const routes: AdminRoute[] = [];
  const segment = (path: string): string =>
    path
      .split('/')
      .filter(Boolean)
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
  for (const controller of controllers) {
    const base = [prefix, ...[].concat(Reflect.getMetadata(PATH_METADATA, controller) ?? '')].filter(Boolean).join('/');
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = proto[name];
      if (typeof handler !== 'function' || name === 'constructor') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (method === undefined || path === undefined) continue;
      const full = [segment(base), segment(path)].filter(Boolean).join('/');
      routes.push({ method: RequestMethod[method], pattern: new RegExp(`^/${full}/?$`) });
    }
  }
  return routes;
}

/** What an error that reached the admin prefix outside its routes becomes: status, body, headers. */
export interface AdminRouteError {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

const MAX_ECHOED_PATH = 128;

/**
 * Gives the admin API's error shape (`{statusCode, error, code, message, field?}`) to what fails on an
 * admin path before any admin route runs: a body the JSON parser refuses (malformed, a bare string or
 * null, a forbidden key), a body over the server's limit, a method the path does not take (405 with
 * `Allow`), a path that does not exist (404). Installed as a global filter by `FeatureFlagsAdminModule`;
 * errors of every other path go on to the app's own global filters, or Nest's default answer, exactly as
 * without it.
 */
@Catch()
export class AdminRouteErrorsFilter implements ExceptionFilter {
  private routeTable: { prefix: string; routes: AdminRoute[] } | undefined;
  private fallback: BaseExceptionFilter | undefined;

  constructor(
    private readonly prefix: string,
    private readonly controllers: readonly Type<unknown>[],
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ApplicationConfig,
  ) {}

  /** The admin routes under the app's global prefix (set after this filter is built, so read late). */
  private get routes(): AdminRoute[] {
    const prefix = this.fullPrefix();
    if (this.routeTable?.prefix !== prefix) this.routeTable = { prefix, routes: routesOf(this.controllers, prefix) };
    return this.routeTable.routes;
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return this.delegate(exception, host);
    const adapter = this.adapterHost.httpAdapter;
    const request = host.switchToHttp().getRequest<unknown>();
    const url = String(adapter.getRequestUrl(request) ?? '');
    const path = url.split('?')[0];
    const root = `/${this.fullPrefix()}`;
    if (path !== root && !path.startsWith(`${root}/`)) return this.delegate(exception, host);
    const answer = this.answer(exception, String(adapter.getRequestMethod(request) ?? 'GET').toUpperCase(), path);
    const response = host.switchToHttp().getResponse<unknown>();
    for (const [name, value] of Object.entries(answer.headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, answer.body, answer.status);
  }

  /** The admin answer to an error on an admin path. */
  answer(exception: unknown, method: string, path: string): AdminRouteError {
    const status = statusOf(exception);
    const message = exception instanceof Error ? exception.message : String(exception);
    if (status === HttpStatus.NOT_FOUND) {
      const allowed = [...new Set(this.routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
      const shown = path.length > MAX_ECHOED_PATH ? `${path.slice(0, MAX_ECHOED_PATH)}…` : path;
      if (allowed.length > 0) {
        if (allowed.includes('GET')) allowed.push('HEAD');
        return {
          status: HttpStatus.METHOD_NOT_ALLOWED,
          headers: { Allow: allowed.join(', ') },
          body: {
            statusCode: 405,
            error: 'Method Not Allowed',
            code: 'METHOD_NOT_ALLOWED',
            message: `${method} is not allowed on ${shown}; allowed: ${allowed.join(', ')}.`,
            allowed,
          },
        };
      }
      return {
        status: 404,
        headers: {},
        body: { statusCode: 404, error: 'Not Found', code: 'NOT_FOUND', message: `No admin route ${method} ${shown}.` },
      };
    }
    if (status === HttpStatus.PAYLOAD_TOO_LARGE) {
      return {
        status,
        headers: {},
        body: {
          statusCode: 413,
          error: 'Payload Too Large',
          code: 'PAYLOAD_TOO_LARGE',
          message: 'The request body is larger than the server accepts.',
          field: 'body',
        },
      };
    }
    if (status === HttpStatus.UNSUPPORTED_MEDIA_TYPE) {
      return {
        status,
        headers: {},
        body: {
          statusCode: 415,
          error: 'Unsupported Media Type',
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: 'Send the body as application/json.',
          field: 'Content-Type',
        },
      };
    }
    if (status === HttpStatus.BAD_REQUEST) {
      if (/URI|decode/i.test(message)) {
        return {
          status,
          headers: {},
          body: {
            statusCode: 400,
            error: 'Bad Request',
            code: 'VALIDATION_FAILED',
            message: 'path: is not a valid URL path (bad percent-encoding)',
            field: 'path',
            problem: 'is not a valid URL path (bad percent-encoding)',
          },
        };
      }
      const problem = 'must be a JSON object (valid JSON, without __proto__ or constructor keys)';
      return {
        status,
        headers: {},
        body: {
          statusCode: 400,
          error: 'Bad Request',
          code: 'VALIDATION_FAILED',
          message: `body: ${problem}`,
          field: 'body',
          problem,
        },
      };
    }
    if (status >= 400 && status < 500) {
      return { status, headers: {}, body: { statusCode: status, error: 'Error', code: `HTTP_${status}`, message } };
    }
    return {
      status: 500,
      headers: {},
      body: {
        statusCode: 500,
        error: 'Internal Server Error',
        code: 'INTERNAL_ERROR',
        message: 'Internal server error',
      },
    };
  }

  /** Hands an error of another path to the global filter Nest would have chosen without this one. */
  private delegate(exception: unknown, host: ArgumentsHost): void {
    // Nest tries global filters last-registered first; those registered before this one come next.
    const globals = [...this.config.getGlobalFilters()].reverse();
    const after = globals.slice(globals.indexOf(this) + 1);
    for (const filter of after) {
      const types = (Reflect.getMetadata(FILTER_CATCH_EXCEPTIONS, filter.constructor) ?? []) as Type<unknown>[];
      if (types.length === 0 || types.some((t) => exception instanceof t)) return void filter.catch(exception, host);
    }
    // Built late: the HTTP adapter does not exist yet when the module's providers are.
    this.fallback ??= new BaseExceptionFilter(this.adapterHost.httpAdapter);
    this.fallback.catch(exception, host);
  }

  private fullPrefix(): string {
    const globalPrefix = this.config.getGlobalPrefix().replace(/^\/+|\/+$/g, '');
    return [globalPrefix, this.prefix].filter(Boolean).join('/');
  }
}

function statusOf(exception: unknown): number {
  if (exception instanceof HttpException) return exception.getStatus();
  const e = exception as { status?: unknown; statusCode?: unknown } | null;
  const status = typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.status === 'number' ? e.status : 500;
  return status >= 400 && status <= 599 ? status : 500;
}
