import { adminContract } from './contract/admin';
import { auditLogContract } from './contract/audit-log';
import { changesContract } from './contract/changes';
import { environmentsContract } from './contract/environments';
import { flagsContract } from './contract/flags';
import { overridesContract } from './contract/overrides';
import { segmentsContract } from './contract/segments';
import { StorageFixture, useStorage } from './contract/support';
import { writesContract } from './contract/writes';

export type { StorageFixture } from './contract/support';

/**
 * The FeatureFlagStorage contract (see the doc comment of the interface), one file per concern under
 * ./contract. Every backend runs it:
 * `describeStorageContract('MemoryStorage', async () => ({ storage: new MemoryStorage(), cleanup: async () => {} }))`.
 * `factory` is called before each test and must return an initialized, empty storage.
 */
export function describeStorageContract(name: string, factory: () => Promise<StorageFixture>): void {
  describe(`${name} — FeatureFlagStorage contract`, () => {
    const context = useStorage(factory);
    environmentsContract(context);
    flagsContract(context);
    overridesContract(context);
    segmentsContract(context);
    writesContract(context);
    changesContract(context);
    auditLogContract(context);
    adminContract(context);
  });
}
