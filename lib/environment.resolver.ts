import { Injectable } from '@nestjs/common';
import { NotFoundError } from './core/errors';
import { EnvironmentDefinition, FlagDefinition, ResolvedFlag } from './core/types';
import { Environment } from './storage/records';
import { FlagSnapshot } from './core/snapshot';

/**
 * Resolves flags along the environment inheritance chain, from the in-memory snapshot.
 *
 * @example
 * const chain = await resolver.getEnvironmentChain('development'); // development → staging → production
 * const resolved = await resolver.resolveFlagForEnvironment(flag, 'development');
 * resolved.percentage;          // 100
 * resolved.sources.percentage;  // 'staging': development inherits staging's 100%
 */
@Injectable()
export class EnvironmentResolver {
  constructor(private readonly snapshot: FlagSnapshot) {}

  /**
   * The inheritance chain of an environment, nearest first: `[environment, parent, …, root]`.
   * @throws NotFoundError for an unknown slug.
   */
  async getEnvironmentChain(slug: string): Promise<Environment[]> {
    return this.snapshot.getEnvironmentChain(slug).map(toEnvironment);
  }

  /**
   * A flag as it applies in an environment: each overridable field from the nearest environment of the
   * chain that sets it, else the environment defaults (`settings.defaultEnabled`, for `enabled`), else the
   * base flag; `sources` names the supplier of each field.
   * @param flag the flag or its key.
   * @throws NotFoundError for an unknown flag or environment.
   */
  async resolveFlagForEnvironment(flag: FlagDefinition | string, slug: string): Promise<ResolvedFlag> {
    const definition =
      typeof flag === 'string' ? this.snapshot.getFlag(flag) : (this.snapshot.getFlagById(flag.id) ?? flag);
    if (!definition) throw new NotFoundError('flag', String(flag));
    return structuredClone(this.snapshot.resolve(definition, slug));
  }
}

function toEnvironment(e: EnvironmentDefinition): Environment {
  return new Environment(structuredClone({ ...e }));
}
