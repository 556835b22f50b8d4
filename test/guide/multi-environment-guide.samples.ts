/**
 * The TypeScript equivalents of every code sample of litestar-flags' multi-environment guide, written as
 * a user would write them. docs/multi-environment-guide.md shows the same code;
 * multi-environment-guide.spec.ts runs it.
 */
import { Controller, Get, Req } from '@nestjs/common';
import {
  Environment,
  EnvironmentResolver,
  FeatureFlagStorage,
  FeatureFlagsModuleOptions,
  Override,
  getRequestEnvironment,
} from '../../lib';

// Setting Up Environment Hierarchy
export async function setupEnvironments(storage: FeatureFlagStorage): Promise<void> {
  // Root: Production (no parent)
  const production = await storage.createEnvironment(
    new Environment({
      name: 'Production',
      slug: 'production',
      description: 'Live production environment',
      settings: { requireApproval: true },
    }),
  );
  // Staging inherits from production
  const staging = await storage.createEnvironment(
    new Environment({
      name: 'Staging',
      slug: 'staging',
      parentId: production.id,
      settings: { requireApproval: false },
    }),
  );
  // Development inherits from staging
  await storage.createEnvironment(
    new Environment({
      name: 'Development',
      slug: 'development',
      parentId: staging.id,
      settings: { debugMode: true },
    }),
  );
}

// Configuring Environment Detection
export const detectionOptions: FeatureFlagsModuleOptions = {
  backend: 'database',
  connection: 'postgres://user:pass@localhost/db',
  // Environment detection
  enableEnvironmentMiddleware: true,
  environmentHeader: 'X-Environment',
  environmentQueryParam: 'env',
  defaultEnvironment: 'production',
  allowedEnvironments: ['production', 'staging', 'development'],
};

// Creating Environment-Specific Overrides
export async function configureFlagPerEnvironment(storage: FeatureFlagStorage, flagKey: string): Promise<void> {
  const flag = (await storage.getFlag(flagKey))!;
  const staging = (await storage.getEnvironment('staging'))!;
  const production = (await storage.getEnvironment('production'))!;

  // 100% in staging for full testing
  await storage.createOverride(
    new Override({
      environmentId: staging.id,
      flagId: flag.id,
      enabled: true,
      percentage: 100.0,
    }),
  );
  // 10% gradual rollout in production
  await storage.createOverride(
    new Override({
      environmentId: production.id,
      flagId: flag.id,
      enabled: true,
      percentage: 10.0,
    }),
  );
  // Development inherits staging's 100% (no override needed)
}

// Evaluating Flags with Environment Context
export async function checkFlagPerEnvironment(
  storage: FeatureFlagStorage,
  resolver: EnvironmentResolver,
  flagKey: string,
  print: (line: string) => void = console.log,
): Promise<void> {
  const baseFlag = (await storage.getFlag(flagKey))!;
  // Each environment gets its resolved configuration
  for (const envSlug of ['production', 'staging', 'development']) {
    const resolved = await resolver.resolveFlagForEnvironment(baseFlag, envSlug);
    print(
      `${envSlug}: enabled=${resolved.enabled} percentage=${resolved.percentage} (from ${resolved.sources.percentage})`,
    );
  }
}

// Promoting Flags Between Environments (by hand; FeatureFlagsService.promoteFlag does it for you)
export async function promoteFlag(
  storage: FeatureFlagStorage,
  flagKey: string,
  fromEnv: string,
  toEnv: string,
): Promise<void> {
  const source = (await storage.getEnvironment(fromEnv))!;
  const target = (await storage.getEnvironment(toEnv))!;
  const flag = (await storage.getFlag(flagKey))!;

  const sourceOverride = await storage.getOverride({ envId: source.id, flagId: flag.id });
  if (!sourceOverride) {
    throw new Error(`No override for ${flagKey} in ${fromEnv}`);
  }
  const existing = await storage.getOverride({ envId: target.id, flagId: flag.id });
  if (existing) {
    existing.enabled = sourceOverride.enabled;
    existing.percentage = sourceOverride.percentage;
    existing.rules = sourceOverride.rules;
    await storage.updateOverride(existing);
  } else {
    await storage.createOverride(
      new Override({
        environmentId: target.id,
        flagId: flag.id,
        enabled: sourceOverride.enabled,
        percentage: sourceOverride.percentage,
        rules: sourceOverride.rules,
      }),
    );
  }
}

// Accessing Environment in Route Handlers
@Controller()
export class DebugController {
  @Get('debug/environment')
  debugEnvironment(@Req() request: unknown): { environment: string | null } {
    // Return the current request environment
    const environment = getRequestEnvironment(request);
    return { environment };
  }
}

// Inspecting the Inheritance Chain
export async function debugInheritance(
  resolver: EnvironmentResolver,
  envSlug: string,
  print: (line: string) => void = console.log,
): Promise<void> {
  const chain = await resolver.getEnvironmentChain(envSlug);
  print(`Inheritance chain for '${envSlug}':`);
  for (const env of chain) {
    print(` -> ${env.slug} (${env.name})`);
  }
}

// Production Security Configuration
export const productionOptions = (env: NodeJS.ProcessEnv): FeatureFlagsModuleOptions => ({
  backend: 'database',
  connection: env.DATABASE_URL,
  // Strict production settings
  defaultEnvironment: 'production',
  enableEnvironmentMiddleware: true,
  environmentHeader: 'X-Environment',
  environmentQueryParam: null, // Disable query param
  allowedEnvironments: ['production'], // Only allow production
});

// Gradual Rollout Workflow
export async function gradualRollout(
  storage: FeatureFlagStorage,
  dev: Environment,
  staging: Environment,
  production: Environment,
  flag: { id: string },
  monitor: (step: string) => Promise<void>,
): Promise<void> {
  // Step 1: Enable 100% in development. (`percentage` alone does not switch a flag on: `enabled` is a
  // field of its own, inherited like the others, so this step sets both.)
  await storage.createOverride(
    new Override({ environmentId: dev.id, flagId: flag.id, enabled: true, percentage: 100 }),
  );
  await monitor('Test thoroughly...');

  // Step 2: Enable 100% in staging
  await storage.createOverride(
    new Override({ environmentId: staging.id, flagId: flag.id, enabled: true, percentage: 100 }),
  );
  await monitor('Validate with production-like data...');

  // Step 3: Gradual production rollout
  const prodFlag = new Override({ environmentId: production.id, flagId: flag.id, enabled: true, percentage: 5 });
  await storage.createOverride(prodFlag);
  await monitor('Monitor metrics, then increase...');
  prodFlag.percentage = 25;
  await storage.updateOverride(prodFlag);
  // Monitor, then continue to 100%...
}
