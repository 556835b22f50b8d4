import { Body, Controller, Headers, HttpCode, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ClientKeyAuthenticator } from './client-key.authenticator';
import { OfrepExceptionFilter } from './ofrep-exception.filter';
import { OfrepEvaluator } from './ofrep.evaluator';

type RequestHeaders = Record<string, string | string[] | undefined>;

/** Whether an `If-None-Match` header names the ETag (a list, weak forms and `*` included). */
export function ifNoneMatchHits(header: string | string[] | undefined, etag: string): boolean {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return false;
  return value.split(',').some((candidate) => {
    const c = candidate.trim();
    return c === '*' || c.replace(/^W\//, '') === etag;
  });
}

/**
 * The OpenFeature Remote Evaluation Protocol (OFREP 0.3.0) over the module's snapshot, for clients in other
 * languages and front-ends: every request carries an environment-scoped client key and evaluates in its
 * environment.
 */
@Controller('ofrep/v1')
@UseFilters(OfrepExceptionFilter)
export class OfrepController {
  constructor(
    private readonly keys: ClientKeyAuthenticator,
    private readonly evaluator: OfrepEvaluator,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** `POST /ofrep/v1/evaluate/flags/{key}`: one flag, for server-side (dynamic context) providers. */
  @Post('evaluate/flags/:key')
  @HttpCode(200)
  async evaluateFlag(
    @Param('key') key: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
    @Req() req: unknown,
    @Res() res: unknown,
  ): Promise<void> {
    const clientKey = await this.keys.authenticate(headers, req);
    const result = this.evaluator.evaluateFlag(key, this.evaluator.context(body, clientKey.environment, key));
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(res, 'Cache-Control', 'no-store');
    adapter.reply(res, result, 200);
  }

  /** `POST /ofrep/v1/evaluate/flags`: every flag, for client-side (static context) providers; ETag / 304. */
  @Post('evaluate/flags')
  @HttpCode(200)
  async evaluateFlags(
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
    @Req() req: unknown,
    @Res() res: unknown,
  ): Promise<void> {
    const clientKey = await this.keys.authenticate(headers, req);
    const { body: answer, etag } = this.evaluator.evaluateAll(
      this.evaluator.context(body, clientKey.environment),
      clientKey.environment,
    );
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(res, 'ETag', etag);
    adapter.setHeader(res, 'Cache-Control', 'private, no-cache');
    if (ifNoneMatchHits(headers['if-none-match'], etag)) {
      adapter.reply(res, undefined, 304);
      return;
    }
    adapter.reply(res, answer, 200);
  }
}
