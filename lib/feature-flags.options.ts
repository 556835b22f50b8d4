import { ENVIRONMENT_TYPES } from './core/types';
import { FeatureFlagsConfigurationError } from './core/errors';
import { SLUG_PATTERN } from './core/validation';
import { FeatureFlagsProvider } from './openfeature/feature-flags.provider';
import {
  EnvironmentDeclaration,
  FeatureFlagsModuleOptions,
  WhenDisabled,
} from './interfaces/feature-flags-module-options.interface';

/** Options with every default applied, validated once at boot: the one place the module's defaults live. */
export interface ResolvedFeatureFlagsOptions extends FeatureFlagsModuleOptions {
  backend: 'database' | 'memory' | 'redis';
  runMigrations: boolean;
  enableEnvironmentMiddleware: boolean;
  environmentHeader: string;
  /** Lower-cased header name, as Node exposes headers. */
  headerKey: string;
  environmentQueryParam: string | null;
  defaultEnvironment: string;
  allowedEnvironments: string[] | undefined;
  onDisallowedEnvironment: 'reject' | 'fallback';
  environments: EnvironmentDeclaration[];
  whenDisabled: WhenDisabled;
  redisPrefix: string;
  propagation: 'auto' | 'redis' | 'postgres' | 'none';
  reconcileIntervalMs: number;
  writeBootstrapFile: boolean;
  failMode: 'closed' | 'open';
}

function fail(option: string, problem: string): never {
  throw new FeatureFlagsConfigurationError(option, problem);
}

/** Applies defaults and refuses options that cannot work, naming the option. */
export function resolveOptions(
  options: FeatureFlagsModuleOptions | undefined,
  graph?: Pick<FeatureFlagsModuleOptions, 'backend' | 'dataSource' | 'enableEnvironmentMiddleware'>,
): ResolvedFeatureFlagsOptions {
  let o = options ?? {};
  if (graph !== undefined) {
    // `dataSource` names a connection injected by its token, `enableEnvironmentMiddleware` whether the
    // detection hook is installed: they shape the module graph, so they come with the module's definition
    // (forRoot's options, or beside forRootAsync's factory), never from the factory.
    if (o.dataSource !== undefined && graph.dataSource === undefined) {
      fail(
        'dataSource',
        'shapes the module graph (the connection is injected by its token): pass it beside useFactory, as forRootAsync({ dataSource, useFactory })',
      );
    }
    if (o.enableEnvironmentMiddleware !== undefined && graph.enableEnvironmentMiddleware === undefined) {
      fail(
        'enableEnvironmentMiddleware',
        'shapes the module graph (how requests are detected): pass it beside useFactory, as forRootAsync({ enableEnvironmentMiddleware, useFactory })',
      );
    }
    // `backend` decides which storage the module creates: it belongs beside the factory too. One the factory
    // returns is still used when none is given beside it.
    if (o.backend !== undefined && graph.backend !== undefined && o.backend !== graph.backend) {
      fail(
        'backend',
        `is ${JSON.stringify(graph.backend)} beside useFactory but ${JSON.stringify(o.backend)} from the factory: give it once, beside useFactory`,
      );
    }
    o = {
      ...o,
      backend: graph.backend ?? o.backend,
      dataSource: graph.dataSource,
      enableEnvironmentMiddleware: graph.enableEnvironmentMiddleware,
    };
  }
  const backend = o.backend ?? 'memory';
  if (backend !== 'database' && backend !== 'memory' && backend !== 'redis') {
    fail('backend', `must be "database", "memory" or "redis", got ${JSON.stringify(backend)}`);
  }
  if (backend === 'redis' && !o.storage && o.redis === undefined)
    fail('redis', 'is required with backend "redis" (a redis:// URL or ioredis options)');
  if (backend === 'database' && !o.storage) {
    if (o.connection === undefined && o.dataSource === undefined) {
      fail('connection', 'is required with backend "database" (or set "dataSource" to share an app connection)');
    }
    if (o.connection !== undefined && o.dataSource !== undefined)
      fail('dataSource', 'cannot be set together with "connection": pick one');
    if (
      o.connection !== undefined &&
      typeof o.connection !== 'string' &&
      (typeof o.connection !== 'object' || o.connection === null)
    ) {
      fail('connection', 'must be a URL string or TypeORM DataSourceOptions');
    }
    if (o.dataSource !== undefined && (typeof o.dataSource !== 'string' || o.dataSource === ''))
      fail('dataSource', 'must be a connection name');
  }
  if (o.openFeatureProvider !== undefined && !(o.openFeatureProvider instanceof FeatureFlagsProvider)) {
    fail('openFeatureProvider', 'must be a FeatureFlagsProvider (new FeatureFlagsProvider())');
  }
  const header = o.environmentHeader ?? 'X-Environment';
  if (typeof header !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(header)) {
    fail('environmentHeader', `must be a valid HTTP header name, got ${JSON.stringify(header)}`);
  }
  const query = o.environmentQueryParam === undefined ? 'env' : o.environmentQueryParam;
  if (query !== null && (typeof query !== 'string' || query === ''))
    fail('environmentQueryParam', 'must be a non-empty string, or null to disable it');
  const defaultEnvironment = o.defaultEnvironment ?? 'production';
  if (typeof defaultEnvironment !== 'string' || !SLUG_PATTERN.test(defaultEnvironment)) {
    fail('defaultEnvironment', `must be an environment slug, got ${JSON.stringify(defaultEnvironment)}`);
  }
  let allowed: string[] | undefined;
  if (o.allowedEnvironments !== undefined) {
    if (!Array.isArray(o.allowedEnvironments) || o.allowedEnvironments.length === 0) {
      fail(
        'allowedEnvironments',
        'must be a non-empty array of environment slugs (omit it to allow every active environment)',
      );
    }
    allowed = o.allowedEnvironments.map((s) => {
      const slug = typeof s === 'string' ? s.trim().toLowerCase() : s;
      if (typeof slug !== 'string' || !SLUG_PATTERN.test(slug))
        fail('allowedEnvironments', `holds ${JSON.stringify(s)}, which is not an environment slug`);
      return slug;
    });
    if (!allowed.includes(defaultEnvironment)) {
      fail(
        'defaultEnvironment',
        `("${defaultEnvironment}") is not in "allowedEnvironments" (${allowed.join(', ')}): requests without an environment would be refused`,
      );
    }
  }
  const onDisallowed = o.onDisallowedEnvironment ?? 'reject';
  if (onDisallowed !== 'reject' && onDisallowed !== 'fallback') {
    fail('onDisallowedEnvironment', `must be "reject" or "fallback", got ${JSON.stringify(onDisallowed)}`);
  }
  const environments = o.environments ?? [];
  if (!Array.isArray(environments)) fail('environments', 'must be an array of environment declarations');
  const declared = new Set<string>();
  environments.forEach((e, i) => {
    const at = `environments[${i}]`;
    if (typeof e !== 'object' || e === null) fail(at, 'must be an object');
    if (typeof e.slug !== 'string' || !SLUG_PATTERN.test(e.slug))
      fail(`${at}.slug`, `must be a slug (lower-case letters, digits, "-", "_"), got ${JSON.stringify(e.slug)}`);
    if (declared.has(e.slug)) fail(`${at}.slug`, `declares "${e.slug}" twice`);
    declared.add(e.slug);
    if (e.type !== undefined && !(ENVIRONMENT_TYPES as readonly string[]).includes(e.type)) {
      fail(`${at}.type`, `must be one of ${ENVIRONMENT_TYPES.join(', ')}`);
    }
    if (e.parent !== undefined && e.parent !== null && (typeof e.parent !== 'string' || !SLUG_PATTERN.test(e.parent))) {
      fail(`${at}.parent`, 'must be the slug of another environment');
    }
    if (e.parent === e.slug) fail(`${at}.parent`, `"${e.slug}" cannot inherit from itself`);
    if (
      e.settings !== undefined &&
      (typeof e.settings !== 'object' || e.settings === null || Array.isArray(e.settings))
    ) {
      fail(`${at}.settings`, 'must be an object');
    }
  });
  const whenDisabled = o.whenDisabled ?? 404;
  if (
    typeof whenDisabled === 'number' &&
    !(Number.isInteger(whenDisabled) && whenDisabled >= 400 && whenDisabled <= 599)
  ) {
    fail('whenDisabled', `must be an HTTP error status (400–599) or an exception factory, got ${whenDisabled}`);
  }
  if (typeof whenDisabled !== 'number' && typeof whenDisabled !== 'function')
    fail('whenDisabled', 'must be a status code or a function');
  if (o.contextFactory !== undefined && typeof o.contextFactory !== 'function')
    fail('contextFactory', 'must be a function (request) => EvaluationContext');
  const propagation = o.propagation ?? 'auto';
  if (!['auto', 'redis', 'postgres', 'none'].includes(propagation))
    fail('propagation', `must be "auto", "redis", "postgres" or "none", got ${JSON.stringify(propagation)}`);
  if (propagation === 'redis' && o.redis === undefined) fail('redis', 'is required with propagation "redis"');
  if (o.redis !== undefined && typeof o.redis !== 'string' && (typeof o.redis !== 'object' || o.redis === null))
    fail('redis', 'must be a URL or ioredis options');
  if (typeof o.redis === 'string' && !/^rediss?:\/\//.test(o.redis))
    fail('redis', `must be a redis:// or rediss:// URL, got ${JSON.stringify(o.redis)}`);
  const reconcileIntervalMs = o.reconcileIntervalMs ?? 5000;
  if (!Number.isInteger(reconcileIntervalMs) || reconcileIntervalMs < 0)
    fail('reconcileIntervalMs', 'must be a whole number of milliseconds (0 disables the check)');
  const failMode = o.failMode ?? 'closed';
  if (failMode !== 'closed' && failMode !== 'open')
    fail('failMode', `must be "closed" or "open", got ${JSON.stringify(failMode)}`);
  if (o.bootstrapFile !== undefined && (typeof o.bootstrapFile !== 'string' || o.bootstrapFile === ''))
    fail('bootstrapFile', 'must be a file path');
  if (o.writeBootstrapFile && o.bootstrapFile === undefined)
    fail('writeBootstrapFile', 'needs "bootstrapFile" to name the file');
  const redisPrefix = o.redisPrefix ?? 'feature-flags:';
  if (typeof redisPrefix !== 'string') fail('redisPrefix', 'must be a string');
  return {
    ...o,
    redisPrefix,
    propagation,
    reconcileIntervalMs,
    writeBootstrapFile: o.writeBootstrapFile ?? false,
    failMode,
    backend,
    runMigrations: o.runMigrations ?? true,
    enableEnvironmentMiddleware: o.enableEnvironmentMiddleware ?? true,
    environmentHeader: header,
    headerKey: header.toLowerCase(),
    environmentQueryParam: query,
    defaultEnvironment,
    allowedEnvironments: allowed,
    onDisallowedEnvironment: onDisallowed,
    environments,
    whenDisabled,
  };
}
