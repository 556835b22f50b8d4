import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SERVICE_URLS, describeWithService } from '../support/services';

/**
 * Optional peers are optional: the library, built as it is published (tsc, CommonJS), runs in a real Node
 * process in which the optional peer dependencies cannot be found. Memory and Redis apps boot and serve
 * without typeorm, @nestjs/typeorm, class-validator, class-transformer or @nestjs/swagger (none of them is
 * even loaded), and a part whose package is missing stops the boot with a message naming the package.
 */
const ROOT = resolve(__dirname, '../..');
// Inside the repository, so that the build resolves node_modules as an installed package would.
const BUILD = join(ROOT, '.test-build', `optional-peers-${process.pid}-${Date.now().toString(36)}`);
const HIDE = join(BUILD, 'hide-packages.cjs');
const TYPEORM_ETC = ['typeorm', '@nestjs/typeorm', 'class-validator', 'class-transformer', '@nestjs/swagger'];

/** A resolver hook: `require()` of a hidden package (or a file in it) fails as if it were not installed. */
const HIDE_HOOK = `
const Module = require('node:module');
const hidden = (process.env.HIDDEN_PACKAGES || '').split(',').filter(Boolean);
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (hidden.some((name) => request === name || request.startsWith(name + '/'))) {
    const error = new Error("Cannot find module '" + request + "'");
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolveFilename.call(this, request, ...rest);
};
`;

/** What every app script starts with: the built library, Nest, and a guarded controller written without TypeScript. */
const PRELUDE = `
require('reflect-metadata');
const lib = require(${JSON.stringify(join(BUILD, 'lib/index.js'))});
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
class AppController {
  checkout() { return { checkout: 'new' }; }
}
Object.defineProperty(AppController.prototype, 'checkout',
  Reflect.decorate([Get('checkout'), lib.FeatureFlag('new-checkout')], AppController.prototype, 'checkout', Object.getOwnPropertyDescriptor(AppController.prototype, 'checkout')));
Reflect.decorate([Controller()], AppController);
function appModule(options, imports = []) {
  class AppModule {}
  Reflect.decorate([Module({ imports: [lib.FeatureFlagsModule.forRoot({
    environments: [{ slug: 'production', type: 'production' }, { slug: 'staging', parent: 'production' }],
    isGlobal: true, ...options }), ...imports], controllers: [AppController] })], AppModule);
  return AppModule;
}
const HIDDEN = (process.env.HIDDEN_PACKAGES || '').split(',').filter(Boolean);
/** The hidden packages that were loaded anyway (none may be). */
function loadedHidden() {
  const files = Object.keys(require.cache);
  return HIDDEN.filter((name) => files.some((f) => f.includes('/node_modules/' + name + '/')));
}
/** Which of these packages are loaded (installed or not). */
function loadedPackages(names) {
  const files = Object.keys(require.cache);
  return names.filter((name) => files.some((f) => f.includes('/node_modules/' + name + '/')));
}
/** The library's files that are loaded, relative to the build (lib/...). */
function loadedLibraryFiles() {
  const root = ${JSON.stringify(BUILD + '/')};
  return Object.keys(require.cache).filter((f) => f.startsWith(root)).map((f) => f.slice(root.length));
}
/** Boots the app, turns new-checkout on in staging through storage, and asks the guarded route and the service. */
async function serve(options) {
  const app = await NestFactory.create(appModule(options), { logger: false });
  await app.listen(0, '127.0.0.1');
  try {
    const storage = app.get(lib.FeatureFlagStorage);
    const flag = await storage.createFlag({ key: 'new-checkout', name: 'New checkout' });
    const staging = await storage.getEnvironment('staging');
    await storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: true });
    const service = app.get(lib.FeatureFlagsService);
    await new Promise((r) => setTimeout(r, 50));
    const url = await app.getUrl();
    const status = async (environment) => (await fetch(url.replace('[::1]', '127.0.0.1') + '/checkout', { headers: { 'x-environment': environment } })).status;
    return {
      storage: storage.constructor.name,
      staging: await status('staging'),
      production: await status('production'),
      service: [service.isEnabled('new-checkout', { environment: 'staging' }), service.isEnabled('new-checkout', { environment: 'production' })],
      loadedHidden: loadedHidden(),
    };
  } finally {
    await app.close();
  }
}
/** Boots the app and reports how the boot failed. */
async function bootError(options, imports) {
  try {
    const app = await NestFactory.create(appModule(options, imports), { logger: false, abortOnError: false });
    try {
      await app.init();
    } finally {
      await app.close().catch(() => undefined);
    }
    return null;
  } catch (e) {
    return e.message;
  }
}
function report(value) { process.stdout.write('RESULT ' + JSON.stringify(value) + '\\n'); }
`;

/** Runs an app script in a Node process where `hidden` packages are not installed; returns its RESULT. */
function run(hidden: string[], body: string): any {
  const file = join(BUILD, `script-${Math.random().toString(36).slice(2)}.cjs`);
  writeFileSync(
    file,
    `${PRELUDE}\n(async () => {\n${body}\n})().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });\n`,
  );
  const child = spawnSync(process.execPath, ['--require', HIDE, file], {
    cwd: ROOT,
    env: { ...process.env, HIDDEN_PACKAGES: hidden.join(',') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (child.status !== 0 || line === undefined)
    throw new Error(`script failed (${child.status ?? child.signal}):\n${child.stdout}\n${child.stderr}`);
  return JSON.parse(line.slice('RESULT '.length));
}

describe('optional peer dependencies', () => {
  beforeAll(() => {
    mkdirSync(BUILD, { recursive: true });
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', BUILD],
      { cwd: ROOT, stdio: 'pipe' },
    );
    writeFileSync(HIDE, HIDE_HOOK);
  }, 120_000);

  afterAll(() => rmSync(BUILD, { recursive: true, force: true }));

  it('the resolver hook hides what it is told to (or the tests below would prove nothing)', () => {
    expect(
      run(
        ['typeorm'],
        `report({ typeorm: (() => { try { require('typeorm'); return 'loaded'; } catch (e) { return e.code; } })() });`,
      ),
    ).toEqual({ typeorm: 'MODULE_NOT_FOUND' });
    expect(run([], `report({ typeorm: typeof require('typeorm').DataSource });`)).toEqual({ typeorm: 'function' });
  });

  it('requiring the library needs none of typeorm, @nestjs/typeorm, class-validator, class-transformer, @nestjs/swagger, ioredis, pg', () => {
    // @nestjs/throttler is a dependency, loaded only by the admin and OFREP modules (failed-authentication throttle).
    const hidden = [
      ...TYPEORM_ETC,
      'ioredis',
      'pg',
      'mysql2',
      'better-sqlite3',
      '@nestjs/terminus',
      '@nestjs/throttler',
    ];
    expect(
      run(
        hidden,
        `report({ exports: Object.keys(lib).length, decorator: typeof lib.FeatureFlag, entity: new lib.Flag({ key: 'k' }).key, loadedHidden: loadedHidden() });`,
      ),
    ).toEqual({
      exports: expect.any(Number),
      decorator: 'function',
      entity: 'k',
      loadedHidden: [],
    });
  });

  it('an app on the memory backend boots, guards and evaluates without them', () => {
    expect(
      run([...TYPEORM_ETC, 'ioredis', 'pg', '@nestjs/throttler'], `report(await serve({ backend: 'memory' }));`),
    ).toEqual({
      storage: 'MemoryStorage',
      staging: 200,
      production: 404,
      service: [true, false],
      loadedHidden: [],
    });
  });

  describeWithService('redis', 'on Redis', () => {
    it('an app on the Redis backend boots, guards and evaluates without them', () => {
      const prefix = `ff-optional-${process.pid}-${Date.now().toString(36)}:`;
      expect(
        run(
          TYPEORM_ETC,
          `report(await serve({ backend: 'redis', redis: ${JSON.stringify(SERVICE_URLS.redis)}, redisPrefix: ${JSON.stringify(prefix)} }));`,
        ),
      ).toEqual({
        storage: 'RedisStorage',
        staging: 200,
        production: 404,
        service: [true, false],
        loadedHidden: [],
      });
    });
  });

  describe('installed, they load only when the part that needs them is used', () => {
    // Every optional peer is installed here (nothing hidden): what is not used must still not load.
    const OPTIONAL = [...TYPEORM_ETC, 'ioredis', 'pg', 'mysql2', 'better-sqlite3', '@openfeature/server-sdk'];

    it('requiring the library, then booting a memory app, loads none of them, nor the admin API', () => {
      const result = run(
        [],
        `const required = loadedPackages(${JSON.stringify(OPTIONAL)});
        const served = await serve({ backend: 'memory' });
        report({
          required,
          storage: served.storage,
          staging: served.staging,
          booted: loadedPackages(${JSON.stringify(OPTIONAL)}),
          adminApi: loadedLibraryFiles().filter((f) => f.startsWith('lib/admin/') && /(controllers|dto|services)\\//.test(f)),
          migrations: loadedLibraryFiles().filter((f) => /\\/migrations\\/(dialects|legacy-names-update|postgres|mysql|sqlite)\\b/.test(f)),
        });`,
      );
      expect(result).toEqual({
        required: [],
        storage: 'MemoryStorage',
        staging: 200,
        booted: [],
        adminApi: [],
        // FEATURE_FLAG_MIGRATIONS lists the steps by name; their DDL loads when a step runs.
        migrations: [],
      });
    });

    it('the TypeORM mapping loads typeorm when the entity list is read; the admin module loads its packages when used', () => {
      const result = run(
        [],
        `const before = loadedPackages(['typeorm', 'class-validator', 'class-transformer', '@nestjs/swagger']);
        const entities = [...lib.FEATURE_FLAG_ENTITIES].map((e) => e.name);
        const mapped = require('typeorm').getMetadataArgsStorage().tables.some((t) => t.target === lib.Flag);
        const afterEntities = loadedPackages(['typeorm', 'class-validator']);
        const admin = await bootError({ backend: 'memory' }, [lib.FeatureFlagsAdminModule.forRoot({ adminToken: 'x'.repeat(32) })]);
        report({ before, entities, mapped, afterEntities, admin, afterAdmin: loadedPackages(['class-validator', 'class-transformer', '@nestjs/swagger']) });`,
      );
      expect(result).toEqual({
        before: [],
        entities: [
          'Flag',
          'FlagRule',
          'Environment',
          'Override',
          'Segment',
          'AuditEvent',
          'ApiToken',
          'ChangeRequest',
          'ClientKey',
        ],
        mapped: true,
        afterEntities: ['typeorm'],
        admin: null,
        afterAdmin: ['class-validator', 'class-transformer', '@nestjs/swagger'],
      });
    });

    it('an ES module imports every public name, without loading them', () => {
      const names = run([], `report(Object.keys(lib));`) as string[];
      const file = join(BUILD, `esm-${Math.random().toString(36).slice(2)}.mjs`);
      writeFileSync(
        file,
        `import * as lib from ${JSON.stringify(join(BUILD, 'lib/index.js'))};
import { FeatureFlagsModule, FeatureFlagsAdminModule, FEATURE_FLAG_ENTITIES, TypeOrmStorage } from ${JSON.stringify(join(BUILD, 'lib/index.js'))};
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = ${JSON.stringify(OPTIONAL)}.filter((name) => Object.keys(require.cache).some((f) => f.includes('/node_modules/' + name + '/')));
process.stdout.write('RESULT ' + JSON.stringify({
  missing: ${JSON.stringify(names)}.filter((name) => lib[name] === undefined),
  named: [typeof FeatureFlagsModule.forRoot, typeof FeatureFlagsAdminModule.forRoot, Array.isArray(FEATURE_FLAG_ENTITIES), typeof TypeOrmStorage],
  loaded,
}) + '\\n');
`,
      );
      const child = spawnSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      expect(line, child.stderr).toBeDefined();
      expect(JSON.parse(line!.slice('RESULT '.length))).toEqual({
        missing: [],
        named: ['function', 'function', true, 'function'],
        loaded: [],
      });
      expect(names.length).toBeGreaterThan(50);
    });
  });

  it('a part whose package is missing stops the boot, naming the package to install', () => {
    const errors = run(
      [...TYPEORM_ETC, 'ioredis'],
      `report({
        database: await bootError({ backend: 'database', connection: 'sqlite::memory:' }),
        dataSource: await bootError({ backend: 'database', dataSource: 'default' }),
        redis: await bootError({ backend: 'redis', redis: 'redis://127.0.0.1:1' }),
        admin: await bootError({ backend: 'memory' }, [lib.FeatureFlagsAdminModule.forRoot({})]),
      });`,
    );
    expect(errors).toEqual({
      database:
        'FeatureFlagsModule: option "connection" the database backend needs the typeorm package, which is not installed: npm install typeorm',
      dataSource:
        'FeatureFlagsModule: option "dataSource" the database backend needs the typeorm package, which is not installed: npm install typeorm',
      redis:
        'FeatureFlagsModule: option "redis" Redis (the redis backend, or changes over Redis pub/sub) needs the ioredis package, which is not installed: npm install ioredis',
      admin:
        'FeatureFlagsModule: option "FeatureFlagsAdminModule" needs class-validator and class-transformer: npm install class-validator class-transformer',
    });
  });
});
