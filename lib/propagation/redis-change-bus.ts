import type { Redis, RedisOptions } from 'ioredis';
import { createRedisClient } from '../storage/redis/connect';
import type { RedisConnection } from '../storage/redis/redis-client';
import { ChangeBus } from './change-bus.interface';

export type { RedisConnection };

/** Change notices over Redis pub/sub: one channel, one subscriber connection per instance. */
export class RedisChangeBus implements ChangeBus {
  readonly name = 'redis';
  readonly maxPayloadBytes = 512 * 1024 * 1024;
  private publisher: Redis | undefined;
  private subscriber: Redis | undefined;

  constructor(
    private readonly connection: RedisConnection,
    private readonly channel: string,
  ) {}

  async start(onPayload: (payload: string) => void): Promise<void> {
    // Fail fast instead of queueing publishes while Redis is away; reconnect forever in the background.
    const options: RedisOptions = {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: (n) => Math.min(n * 200, 2000),
    };
    // A publish in flight when the connection drops must fail rather than wait for the reconnect.
    this.publisher = createRedisClient(this.connection, {
      ...options,
      commandTimeout: 2000,
      autoResendUnfulfilledCommands: false,
    });
    this.subscriber = createRedisClient(this.connection, {
      ...options,
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
    });
    this.publisher.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) onPayload(message);
    });
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    await this.subscriber.subscribe(this.channel);
  }

  async publish(payload: string): Promise<void> {
    if (!this.publisher) throw new Error('RedisChangeBus is not started');
    await this.publisher.publish(this.channel, payload);
  }

  isConnected(): boolean {
    return this.publisher?.status === 'ready' && this.subscriber?.status === 'ready';
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.publisher, this.subscriber].map(async (c) => {
        if (!c) return;
        try {
          await c.quit();
        } catch {
          c.disconnect();
        }
      }),
    );
    this.publisher = undefined;
    this.subscriber = undefined;
  }
}
