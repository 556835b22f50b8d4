import {
  ArgumentsHost,
  Catch,
  Controller,
  ExceptionFilter,
  Get,
  HttpException,
  INestApplication,
  Module,
  Req,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { Agent, get } from 'node:http';
import request from 'supertest';
import {
  DisallowedEnvironmentException,
  FeatureFlagsModule,
  FeatureFlagsModuleOptions,
  RequestEnvironment,
  RequestStateService,
  getRequestEnvironment,
} from '../../lib';
import { DETECTION_EXCLUSION } from '../../lib/feature-flags.internal-constants';
import { ADAPTERS, StartApp, bootApp, closeApps } from '../support/http';
import { HIERARCHY } from './seed';

@Controller()
class EnvironmentController {
  @Get('environment')
  fromRequest(@Req() req: unknown): { environment: string | null } {
    return { environment: getRequestEnvironment(req) };
  }

  @Get('environment/decorated')
  fromDecorator(@RequestEnvironment() environment: string | null): { environment: string | null } {
    return { environment };
  }

  @Get('plain')
  plain(): { ok: true } {
    return { ok: true };
  }
}

/** Routes under a prefix excluded from detection (as the admin API and OFREP are), reporting the state they see. */
@Controller('excluded')
class ExcludedController {
  @Get()
  state(): { state: boolean } {
    return { state: RequestStateService.current() !== undefined };
  }
}

@Module({ controllers: [ExcludedController], providers: [{ provide: DETECTION_EXCLUSION, useValue: 'excluded' }] })
class ExcludedModule {}

/** An app's exception filter: every HttpException, with what it caught. */
@Catch(HttpException)
class RecordingFilter implements ExceptionFilter {
  static caught: unknown[] = [];
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: HttpException, host: ArgumentsHost): void {
    RecordingFilter.caught.push(exception);
    const body = {
      filtered: true,
      status: exception.getStatus(),
      code: (exception.getResponse() as { code?: string }).code,
    };
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, exception.getStatus());
  }
}

/** GETs over one keep-alive connection, in turn: each request's status and body. */
async function overOneConnection(
  baseUrl: string,
  requests: { path: string; headers?: Record<string, string> }[],
): Promise<{ status: number; body: unknown }[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const answers: { status: number; body: unknown }[] = [];
  try {
    for (const r of requests) {
      answers.push(
        await new Promise((resolve, reject) => {
          get(`${baseUrl}${r.path}`, { agent, headers: r.headers }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          }).on('error', reject);
        }),
      );
    }
  } finally {
    agent.destroy();
  }
  return answers;
}

describe.each(ADAPTERS)('environment detection (%s)', (_adapter, start: StartApp) => {
  afterEach(closeApps);

  function boot(options: FeatureFlagsModuleOptions = {}): Promise<INestApplication> {
    return bootApp(start, {
      imports: [FeatureFlagsModule.forRoot({ environments: HIERARCHY, ...options })],
      controllers: [EnvironmentController],
    });
  }

  describe('with the default options', () => {
    let app: INestApplication;
    beforeEach(async () => {
      app = await boot();
    });

    it('uses the default environment when the request names none', async () => {
      await request(app.getHttpServer()).get('/environment').expect(200, { environment: 'production' });
    });

    it('reads the X-Environment header', async () => {
      await request(app.getHttpServer())
        .get('/environment')
        .set('X-Environment', 'staging')
        .expect(200, { environment: 'staging' });
    });

    it('reads the env query parameter when there is no header', async () => {
      await request(app.getHttpServer())
        .get('/environment?env=development')
        .expect(200, { environment: 'development' });
    });

    it('prefers the header over the query parameter', async () => {
      await request(app.getHttpServer())
        .get('/environment?env=development')
        .set('X-Environment', 'staging')
        .expect(200, { environment: 'staging' });
    });

    it('falls through an empty header to the query parameter', async () => {
      await request(app.getHttpServer())
        .get('/environment?env=development')
        .set('X-Environment', '')
        .expect(200, { environment: 'development' });
    });

    it('trims and lower-cases the header value', async () => {
      await request(app.getHttpServer())
        .get('/environment')
        .set('X-Environment', ' Staging ')
        .expect(200, { environment: 'staging' });
    });

    it('trims and lower-cases the query value', async () => {
      await request(app.getHttpServer())
        .get('/environment?env=%20DEVELOPMENT%20')
        .expect(200, { environment: 'development' });
    });

    it('gives @RequestEnvironment() the same environment as getRequestEnvironment()', async () => {
      await request(app.getHttpServer())
        .get('/environment/decorated')
        .set('X-Environment', 'development')
        .expect(200, { environment: 'development' });
      await request(app.getHttpServer()).get('/environment/decorated').expect(200, { environment: 'production' });
    });

    it('rejects an unknown environment with 400, naming the value and the allowed environments', async () => {
      const res = await request(app.getHttpServer()).get('/environment').set('X-Environment', 'QA').expect(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'ENVIRONMENT_NOT_ALLOWED',
        field: 'header "x-environment"',
        environment: 'QA',
        allowedEnvironments: ['development', 'production', 'staging'],
        // The value is in \`environment\` only: once, truncated to 64 characters.
        message: expect.stringContaining('header "x-environment"'),
      });
      for (const slug of ['development', 'production', 'staging']) expect(res.body.message).toContain(slug);
    });

    it('rejects an unknown environment on every route, not only those that read it', async () => {
      const res = await request(app.getHttpServer()).get('/plain?env=qa').expect(400);
      expect(res.body).toMatchObject({
        statusCode: 400,
        environment: 'qa',
        allowedEnvironments: ['development', 'production', 'staging'],
      });
    });
  });

  it('reads a configured header name instead of X-Environment', async () => {
    const app = await boot({ environmentHeader: 'X-Deploy-Env' });
    await request(app.getHttpServer())
      .get('/environment')
      .set('X-Deploy-Env', 'staging')
      .expect(200, { environment: 'staging' });
    await request(app.getHttpServer())
      .get('/environment')
      .set('X-Environment', 'staging')
      .expect(200, { environment: 'production' });
  });

  it('reads a configured query parameter instead of env', async () => {
    const app = await boot({ environmentQueryParam: 'stage' });
    await request(app.getHttpServer()).get('/environment?stage=staging').expect(200, { environment: 'staging' });
    await request(app.getHttpServer()).get('/environment?env=staging').expect(200, { environment: 'production' });
  });

  it('ignores the query parameter when environmentQueryParam is null', async () => {
    const app = await boot({ environmentQueryParam: null });
    await request(app.getHttpServer()).get('/environment?env=staging').expect(200, { environment: 'production' });
    await request(app.getHttpServer())
      .get('/environment')
      .set('X-Environment', 'staging')
      .expect(200, { environment: 'staging' });
  });

  it('uses the configured default environment', async () => {
    const app = await boot({ defaultEnvironment: 'development' });
    await request(app.getHttpServer()).get('/environment').expect(200, { environment: 'development' });
  });

  it('rejects an environment outside allowedEnvironments even though it exists', async () => {
    const app = await boot({ allowedEnvironments: ['production', 'staging'] });
    await request(app.getHttpServer())
      .get('/environment')
      .set('X-Environment', 'staging')
      .expect(200, { environment: 'staging' });
    const res = await request(app.getHttpServer()).get('/environment').set('X-Environment', 'development').expect(400);
    expect(res.body).toMatchObject({
      statusCode: 400,
      environment: 'development',
      allowedEnvironments: ['production', 'staging'],
    });
    expect(res.body.message).toEqual(expect.stringContaining('production'));
    expect(res.body.message).toEqual(expect.stringContaining('staging'));
  });

  it("falls back to the default environment with onDisallowedEnvironment: 'fallback'", async () => {
    const app = await boot({ onDisallowedEnvironment: 'fallback', allowedEnvironments: ['production', 'staging'] });
    await request(app.getHttpServer())
      .get('/environment')
      .set('X-Environment', 'qa')
      .expect(200, { environment: 'production' });
    await request(app.getHttpServer()).get('/environment?env=development').expect(200, { environment: 'production' });
    await request(app.getHttpServer())
      .get('/environment')
      .set('X-Environment', 'staging')
      .expect(200, { environment: 'staging' });
  });

  describe('a locked-down production configuration: production by default, no query parameter, only production allowed', () => {
    let app: INestApplication;
    beforeEach(async () => {
      app = await boot({
        defaultEnvironment: 'production',
        environmentQueryParam: null,
        allowedEnvironments: ['production'],
      });
    });

    it('ignores ?env=development', async () => {
      await request(app.getHttpServer()).get('/environment?env=development').expect(200, { environment: 'production' });
    });

    it('refuses X-Environment: staging with 400', async () => {
      const res = await request(app.getHttpServer()).get('/environment').set('X-Environment', 'staging').expect(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'ENVIRONMENT_NOT_ALLOWED',
        field: 'header "x-environment"',
        environment: 'staging',
        allowedEnvironments: ['production'],
        message: expect.stringContaining('production'),
      });
      expect(res.body.message).toContain('header "x-environment"');
    });

    it('accepts X-Environment: production', async () => {
      await request(app.getHttpServer())
        .get('/environment')
        .set('X-Environment', 'Production')
        .expect(200, { environment: 'production' });
    });
  });

  describe('with enableEnvironmentMiddleware: false', () => {
    let app: INestApplication;
    beforeEach(async () => {
      app = await boot({ enableEnvironmentMiddleware: false });
    });

    it('detects the environment on first use in getRequestEnvironment()', async () => {
      await request(app.getHttpServer())
        .get('/environment')
        .set('X-Environment', 'staging')
        .expect(200, { environment: 'staging' });
      await request(app.getHttpServer())
        .get('/environment?env=development')
        .expect(200, { environment: 'development' });
      await request(app.getHttpServer()).get('/environment').expect(200, { environment: 'production' });
    });

    it('detects the environment on first use in @RequestEnvironment()', async () => {
      await request(app.getHttpServer())
        .get('/environment/decorated')
        .set('X-Environment', 'development')
        .expect(200, { environment: 'development' });
    });

    it('detects with the options of the app serving the request when another app runs in the same process', async () => {
      const other = await boot({
        enableEnvironmentMiddleware: false,
        defaultEnvironment: 'staging',
        environmentHeader: 'X-Other-Env',
      });
      await request(other.getHttpServer()).get('/environment').expect(200, { environment: 'staging' });
      await request(app.getHttpServer()).get('/environment').expect(200, { environment: 'production' });
      await request(app.getHttpServer())
        .get('/environment')
        .set('X-Environment', 'development')
        .expect(200, { environment: 'development' });
      await other.close();
      await request(app.getHttpServer()).get('/environment/decorated').expect(200, { environment: 'production' });
    });

    it('leaves routes that never read the environment alone, and refuses a bad one where it is read', async () => {
      await request(app.getHttpServer()).get('/plain').set('X-Environment', 'qa').expect(200, { ok: true });
      const res = await request(app.getHttpServer()).get('/environment').set('X-Environment', 'qa').expect(400);
      expect(res.body).toMatchObject({
        statusCode: 400,
        environment: 'qa',
        allowedEnvironments: ['development', 'production', 'staging'],
      });
    });
  });

  describe("as the HTTP adapter's own hook", () => {
    it("hands a refused environment to the app's exception filters as an HttpException, on every route", async () => {
      RecordingFilter.caught = [];
      const app = await bootApp(start, {
        imports: [FeatureFlagsModule.forRoot({ environments: HIERARCHY })],
        controllers: [EnvironmentController],
        providers: [{ provide: APP_FILTER, useClass: RecordingFilter }],
      });
      await request(app.getHttpServer())
        .get('/plain')
        .set('X-Environment', 'qa')
        .expect(400, { filtered: true, status: 400, code: 'ENVIRONMENT_NOT_ALLOWED' });
      await request(app.getHttpServer())
        .get('/no-such-route?env=qa')
        .expect(400, { filtered: true, status: 400, code: 'ENVIRONMENT_NOT_ALLOWED' });
      expect(RecordingFilter.caught).toHaveLength(2);
      for (const e of RecordingFilter.caught) expect(e).toBeInstanceOf(DisallowedEnvironmentException);
      await request(app.getHttpServer()).get('/plain').set('X-Environment', 'staging').expect(200, { ok: true });
      expect(RecordingFilter.caught).toHaveLength(2);
    });

    it('gives each request on a keep-alive connection its own state, and none under an excluded prefix', async () => {
      const app = await bootApp(start, {
        imports: [FeatureFlagsModule.forRoot({ environments: HIERARCHY }), ExcludedModule],
        controllers: [EnvironmentController],
      });
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as { port: number };
      const answers = await overOneConnection(`http://127.0.0.1:${port}`, [
        { path: '/environment', headers: { 'x-environment': 'staging' } },
        { path: '/excluded', headers: { 'x-environment': 'qa' } },
        { path: '/environment/decorated' },
        { path: '/environment?env=development' },
        { path: '/excluded' },
      ]);
      expect(answers).toEqual([
        { status: 200, body: { environment: 'staging' } },
        { status: 200, body: { state: false } },
        { status: 200, body: { environment: 'production' } },
        { status: 200, body: { environment: 'development' } },
        { status: 200, body: { state: false } },
      ]);
    });
  });

  describe('enableEnvironmentMiddleware, a static option', () => {
    it("is given beside forRootAsync's factory", async () => {
      const app = await bootApp(start, {
        imports: [
          FeatureFlagsModule.forRootAsync({
            enableEnvironmentMiddleware: false,
            useFactory: () => ({ environments: HIERARCHY }),
          }),
        ],
        controllers: [EnvironmentController],
      });
      await request(app.getHttpServer()).get('/plain').set('X-Environment', 'qa').expect(200, { ok: true });
      await request(app.getHttpServer())
        .get('/environment')
        .set('X-Environment', 'staging')
        .expect(200, { environment: 'staging' });
    });

    it('is refused from the factory, saying where it goes', async () => {
      const app = bootApp(start, {
        imports: [
          FeatureFlagsModule.forRootAsync({
            useFactory: () => ({ environments: HIERARCHY, enableEnvironmentMiddleware: false }),
          }),
        ],
      });
      await expect(app).rejects.toMatchObject({
        option: 'enableEnvironmentMiddleware',
        message: expect.stringContaining('forRootAsync({ enableEnvironmentMiddleware, useFactory })'),
      });
    });
  });
});
