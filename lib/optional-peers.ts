import { FeatureFlagsConfigurationError } from './core/errors';

/**
 * The optional peer dependencies (typeorm, @nestjs/typeorm, ioredis, pg, class-validator,
 * class-transformer, @nestjs/swagger) are loaded here, when a part that uses them is used: requiring the
 * library never needs them.
 */

/** Whether `error` says that `name` itself is not installed (not that something inside it failed). */
function isNotInstalled(error: unknown, name: string): boolean {
  const e = error as { code?: string; message?: string } | null;
  return (
    (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    e.message.includes(`'${name}'`)
  );
}

/** An optional peer dependency, or undefined when it is not installed. Any other failure to load it propagates. */
export function loadOptionalPeer<T>(name: string): T | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peers load when a part that needs one is used
    return require(name) as T;
  } catch (e) {
    if (isNotInstalled(e, name)) return undefined;
    throw e;
  }
}

/**
 * An optional peer dependency that a part in use needs.
 * @throws FeatureFlagsConfigurationError naming `option` and the package to install, when it is not installed.
 */
export function requirePeer<T>(name: string, option: string, usage: string): T {
  const loaded = loadOptionalPeer<T>(name);
  if (loaded === undefined)
    throw new FeatureFlagsConfigurationError(
      option,
      `${usage} needs the ${name} package, which is not installed: npm install ${name}`,
    );
  return loaded;
}
