import Redis from 'ioredis';
import { describeWithService } from '../support/services';
import { describeStorageContract } from './storage-contract';
import { inspector, redisFixture } from './redis-fixtures';

describeWithService('redis', 'RedisStorage', () => {
  let client: Redis | undefined;
  const cleaner = (): Redis => (client ??= inspector());
  afterAll(async () => {
    await client?.quit();
  });

  describeStorageContract('RedisStorage', () => redisFixture(cleaner));
});
