import { MemoryStorage } from '../../lib/storage/memory.storage';
import { describeStorageContract } from './storage-contract';

describeStorageContract('MemoryStorage', async () => ({
  storage: new MemoryStorage(),
  cleanup: async () => undefined,
}));
