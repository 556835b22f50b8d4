import { randomUUID } from 'node:crypto';
import { StorageUnavailableError } from '../../core/errors';
import { AuditEventNotifier } from '../audit';
import { AuditEvent } from '../records';
import { ChangeNotifier } from '../storage-records';
import { encodeEvent } from './codec';
import { RedisKeys } from './keys';
import { CommitReply, ScriptedRedisClient } from './scripted-client';
import { RedisTx } from './transaction';

/** How many times a write runs when what it read keeps changing under it. */
const MAX_ATTEMPTS = 100;

const pause = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 50)));

/**
 * Runs RedisStorage's writes, one at a time in this process (other processes are handled by the commit's
 * guards): each write runs as attempts (`RedisTx`) until one commits — its reads still hold — or it is
 * refused on data that is still current; its changes and audit events are reported after the commit.
 */
export class RedisWriteRunner {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: ScriptedRedisClient,
    private readonly keys: RedisKeys,
    private readonly maxEvents: number,
    private readonly notifier: ChangeNotifier,
    private readonly eventNotifier: AuditEventNotifier,
  ) {}

  /** Resolves once the writes running now are done. */
  idle(): Promise<unknown> {
    return this.queue;
  }

  /** Runs a write's attempts until one commits (or is refused); reports its changes and events after the commit. */
  attempts<T>(work: (tx: RedisTx) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      for (let attempt = 1; ; attempt++) {
        const tx = new RedisTx(this.client);
        let result: T;
        try {
          result = await work(tx);
        } catch (e) {
          // A refusal is final only if what it was based on is still current (reads are not one snapshot).
          if (
            e instanceof StorageUnavailableError ||
            tx.guards.length === 0 ||
            attempt >= MAX_ATTEMPTS ||
            (await this.holds(tx))
          )
            throw e;
          await pause(attempt);
          continue;
        }
        if (tx.isEmpty) {
          if (tx.guards.length <= 1 || attempt >= MAX_ATTEMPTS || (await this.holds(tx))) return result;
          await pause(attempt);
          continue;
        }
        const reply = await this.commit(tx);
        if (reply[0] === 1) {
          const [, n, ids, epoch] = reply as [number, number, number[], string];
          tx.changes.forEach((change, part) =>
            this.notifier.emit(change, { epoch, n: Number(n), part, parts: tx.changes.length }),
          );
          tx.events.forEach((event, i) => this.eventNotifier.emit(new AuditEvent({ ...event, id: Number(ids[i]) })));
          return result;
        }
        if (attempt >= MAX_ATTEMPTS) {
          throw new StorageUnavailableError(
            `The feature-flag data in Redis kept changing during the write (${MAX_ATTEMPTS} attempts): try again.`,
          );
        }
        await pause(attempt);
      }
    });
  }

  private commit(tx: RedisTx): Promise<CommitReply> {
    return this.client.commit({
      guards: tx.guards,
      ops: tx.ops,
      events: tx.events.map(encodeEvent),
      seq: this.keys.eventSeq,
      stream: this.keys.events,
      max: String(this.maxEvents),
      revision: this.keys.revision,
      // Only what the snapshot holds moves the revision (not API tokens or change requests).
      bump: tx.changes.length > 0,
      epoch: this.keys.epoch,
      epochValue: randomUUID(),
    });
  }

  /** Whether everything a transaction read is still what Redis holds. */
  private async holds(tx: RedisTx): Promise<boolean> {
    const reply = await this.client.commit({ guards: tx.guards, check: true });
    return reply[0] === 1;
  }

  /** Runs writes one at a time (in this process; other processes are handled by the commit's guards). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
