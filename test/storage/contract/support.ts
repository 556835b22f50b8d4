import { FeatureFlagsValidationError, StorageChange } from '../../../lib/core';
import { Environment } from '../../../lib/storage/records';
import { FeatureFlagStorage, FlagRuleInput } from '../../../lib/storage/feature-flag-storage.interface';

/** A fresh, empty storage, and how to dispose of it. */
export interface StorageFixture {
  storage: FeatureFlagStorage;
  cleanup: () => Promise<void>;
}

/** What every part of the contract works with: the test's storage, the changes it reported, a hierarchy. */
export interface ContractContext {
  /** The test's storage (a new one for each test). */
  readonly storage: FeatureFlagStorage;
  /** The changes the storage reported during the test, in order. */
  readonly changes: StorageChange[];
  /** production ← staging ← development */
  hierarchy(): Promise<{ production: Environment; staging: Environment; development: Environment }>;
}

/** Registers the hooks that give each test a fresh storage from `factory`, and returns the context that reaches it. */
export function useStorage(factory: () => Promise<StorageFixture>): ContractContext {
  let storage: FeatureFlagStorage;
  let cleanup: (() => Promise<void>) | undefined;
  let changes: StorageChange[];

  beforeEach(async () => {
    const fixture = await factory();
    storage = fixture.storage;
    cleanup = fixture.cleanup;
    changes = [];
    storage.subscribe((change) => changes.push(change));
  });

  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  return {
    get storage() {
      return storage;
    },
    get changes() {
      return changes;
    },
    async hierarchy() {
      const production = await storage.createEnvironment({
        name: 'Production',
        slug: 'production',
        type: 'production',
      });
      const staging = await storage.createEnvironment({ name: 'Staging', slug: 'staging', parentId: production.id });
      const development = await storage.createEnvironment({
        name: 'Development',
        slug: 'development',
        parentId: staging.id,
      });
      return { production, staging, development };
    },
  };
}

/** Expects `promise` to reject with a FeatureFlagsValidationError naming `field`. */
export async function expectInvalid(promise: Promise<unknown>, field: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FeatureFlagsValidationError);
  expect((error as FeatureFlagsValidationError).field).toBe(field);
}

/** Whether a value is a Date (from any realm: a test runner's sandbox may have its own Date). */
export function isDate(value: unknown): boolean {
  return Object.prototype.toString.call(value) === '[object Date]' && !Number.isNaN((value as Date).getTime());
}

/** Settles every promise and counts how many resolved and which errors the others rejected with. */
export async function settle<T>(promises: Promise<T>[]): Promise<{ ok: T[]; errors: unknown[] }> {
  const results = await Promise.allSettled(promises);
  return {
    ok: results
      .filter((r): r is PromiseFulfilledResult<Awaited<T>> => r.status === 'fulfilled')
      .map((r) => r.value as T),
    errors: results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason),
  };
}

export const countryRule: FlagRuleInput = {
  name: 'France',
  priority: 1,
  conditions: [{ attribute: 'country', operator: 'in', value: ['FR', 'BE'] }],
  serveEnabled: true,
  rolloutPercentage: 12.5,
};
