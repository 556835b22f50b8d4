import { INestApplication } from '@nestjs/common';
import { EnvironmentDeclaration, FeatureFlagStorage, Flag, FlagInput, OverrideInput } from '../../lib';

/** The e2e tests' hierarchy: development inherits from staging, which inherits from production. */
export const HIERARCHY: EnvironmentDeclaration[] = [
  { slug: 'production', settings: { requireApproval: true } },
  { slug: 'staging', parent: 'production' },
  { slug: 'development', parent: 'staging' },
];

/** What an environment overrides of a flag (absent or null: inherited). */
export type Override = Omit<OverrideInput, 'environmentId' | 'flagId'>;

/** The app's storage, as users inject it. */
export function storageOf(app: INestApplication): FeatureFlagStorage {
  return app.get<FeatureFlagStorage>(FeatureFlagStorage);
}

/**
 * Creates a flag and its per-environment overrides through the app's storage.
 *
 * @example
 * await seedFlag(app, { key: 'new-checkout' }, { staging: { enabled: true } });
 */
export async function seedFlag(
  app: INestApplication,
  input: FlagInput,
  overrides: Record<string, Override> = {},
): Promise<Flag> {
  const storage = storageOf(app);
  const flag = await storage.createFlag(input);
  for (const [slug, fields] of Object.entries(overrides)) {
    const environment = await storage.getEnvironment(slug);
    if (!environment) throw new Error(`seedFlag: no environment "${slug}"`);
    await storage.createOverride({ environmentId: environment.id, flagId: flag.id, ...fields });
  }
  return flag;
}
