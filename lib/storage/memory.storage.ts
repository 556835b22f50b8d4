import { randomUUID } from 'node:crypto';
import { SnapshotData, StorageChangeListener } from '../core/changes';
import { assertChangeRequestFilter, changeRequestMatches } from './admin-records';
import { AuditEventNotifier, copyApiToken, copyChangeRequest, copyEvent } from './audit';
import { eventMatches, resolveEventFilter } from './audit-filter';
import { ChangeRequestFilter, FeatureFlagAdminStorage } from './feature-flag-admin-storage.interface';
import { AuditEventFilter, AuditEventListener, FeatureFlagStorage, FlagFilter } from './feature-flag-storage.interface';
import { OverrideRef } from './inputs';
import { MemoryTables, memoryTables, MemoryTransaction } from './memory/memory-transaction';
import { RecordTransaction } from './record-transaction';
import {
  ApiToken,
  AuditEvent,
  ChangeRequest,
  ClientKey,
  Environment,
  Flag,
  Override,
  Segment,
  copyEnvironment,
  copyFlag,
  copyOverride,
  copySegment,
} from './records';
import { copyClientKey } from './secret-records';
import { ChangeNotifier, flagMatches } from './storage-records';
import { TransactionalStorage } from './transactional-storage';

/** Options of MemoryStorage. */
export interface MemoryStorageOptions {
  /** How many audit events are kept (the oldest go first). Default 10,000. */
  maxEvents?: number;
}

/**
 * Keeps everything in process memory: for tests, local development and single-instance apps that declare
 * their flags at boot. Nothing survives a restart. Writes run one at a time, each (and each batch) staged
 * and applied at once, so that readers never see part of one; a refused write leaves nothing behind.
 */
export class MemoryStorage extends TransactionalStorage implements FeatureFlagStorage, FeatureFlagAdminStorage {
  private readonly tables: MemoryTables = memoryTables();
  private readonly events: AuditEvent[] = [];
  private nextEventId = 1;
  private readonly maxEvents: number;
  /** Tells this store's revisions from another's. */
  private readonly epoch = randomUUID();
  private readonly notifier = new ChangeNotifier();
  private readonly eventNotifier = new AuditEventNotifier();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: MemoryStorageOptions = {}) {
    super();
    this.maxEvents = options.maxEvents ?? 10_000;
  }

  async init(): Promise<void> {}

  async close(): Promise<void> {}

  subscribe(listener: StorageChangeListener): () => void {
    return this.notifier.subscribe(listener);
  }

  subscribeEvents(listener: AuditEventListener): () => void {
    return this.eventNotifier.subscribe(listener);
  }

  /** The number of applied writes. */
  async revision(): Promise<string> {
    return `${this.epoch}:${this.notifier.count}`;
  }

  async loadSnapshot(): Promise<SnapshotData> {
    return {
      environments: [...this.tables.environment.values()].map(copyEnvironment),
      flags: [...this.tables.flag.values()].map(copyFlag),
      overrides: [...this.tables.override.values()].map(copyOverride),
      segments: [...this.tables.segment.values()].map(copySegment),
    };
  }

  async getEnvironment(slug: string): Promise<Environment | null> {
    const env = find(this.tables.environment, (e) => e.slug === slug);
    return env ? copyEnvironment(env) : null;
  }

  async getEnvironmentById(id: string): Promise<Environment | null> {
    const env = this.tables.environment.get(id);
    return env ? copyEnvironment(env) : null;
  }

  async listEnvironments(): Promise<Environment[]> {
    return [...this.tables.environment.values()].map(copyEnvironment);
  }

  async getFlag(key: string): Promise<Flag | null> {
    const flag = find(this.tables.flag, (f) => f.key === key);
    return flag ? copyFlag(flag) : null;
  }

  async listFlags(filter?: FlagFilter): Promise<Flag[]> {
    return [...this.tables.flag.values()]
      .filter((f) => flagMatches(f, filter))
      .sort((a, b) => a.key.localeCompare(b.key))
      .map(copyFlag);
  }

  async getOverride(ref: OverrideRef): Promise<Override | null> {
    const o = find(this.tables.override, (o) => o.environmentId === ref?.envId && o.flagId === ref.flagId);
    return o ? copyOverride(o) : null;
  }

  async listOverrides(filter?: Partial<OverrideRef>): Promise<Override[]> {
    return [...this.tables.override.values()]
      .filter(
        (o) =>
          (filter?.envId === undefined || o.environmentId === filter.envId) &&
          (filter?.flagId === undefined || o.flagId === filter.flagId),
      )
      .map(copyOverride);
  }

  async getSegment(key: string): Promise<Segment | null> {
    const s = find(this.tables.segment, (s) => s.key === key);
    return s ? copySegment(s) : null;
  }

  async listSegments(): Promise<Segment[]> {
    return [...this.tables.segment.values()].map(copySegment);
  }

  async listEvents(filter?: AuditEventFilter): Promise<AuditEvent[]> {
    const f = resolveEventFilter(filter);
    const ordered = f.order === 'asc' ? this.events : [...this.events].reverse();
    const out: AuditEvent[] = [];
    for (const e of ordered) {
      if (!eventMatches(e, f)) continue;
      out.push(copyEvent(e));
      if (out.length >= f.limit) break;
    }
    return out;
  }

  async getApiToken(id: string): Promise<ApiToken | null> {
    const t = this.tables.apiToken.get(id);
    return t ? copyApiToken(t) : null;
  }

  async findApiTokenBySecretHash(secretHash: string): Promise<ApiToken | null> {
    const t = find(this.tables.apiToken, (t) => t.secretHash === secretHash);
    return t ? copyApiToken(t) : null;
  }

  async listApiTokens(): Promise<ApiToken[]> {
    return [...this.tables.apiToken.values()].map(copyApiToken);
  }

  async getClientKey(id: string): Promise<ClientKey | null> {
    const k = this.tables.clientKey.get(id);
    return k ? copyClientKey(k) : null;
  }

  async findClientKeyBySecretHash(secretHash: string): Promise<ClientKey | null> {
    const k = find(this.tables.clientKey, (k) => k.secretHash === secretHash);
    return k ? copyClientKey(k) : null;
  }

  async listClientKeys(): Promise<ClientKey[]> {
    return [...this.tables.clientKey.values()].map(copyClientKey);
  }

  async getChangeRequest(id: string): Promise<ChangeRequest | null> {
    const c = this.tables.changeRequest.get(id);
    return c ? copyChangeRequest(c) : null;
  }

  async listChangeRequests(filter?: ChangeRequestFilter): Promise<ChangeRequest[]> {
    assertChangeRequestFilter(filter);
    return [...this.tables.changeRequest.values()]
      .filter((c) => changeRequestMatches(c, filter))
      .reverse()
      .map(copyChangeRequest);
  }

  /**
   * Runs `work` as one transaction, after the transactions before it: on success its writes are applied
   * at once, its events numbered and kept, then its changes and events reported; on failure nothing is.
   */
  protected transaction<T>(work: (tx: RecordTransaction) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const tx = new MemoryTransaction(this.tables);
      const result = await work(tx);
      tx.commit();
      const recorded = tx.events.map((e) => new AuditEvent({ ...e, id: this.nextEventId++ }));
      this.events.push(...recorded);
      if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
      // Every change is a commit of its own: revision `<epoch>:<count>`.
      for (const change of tx.changes)
        this.notifier.emit(change, { epoch: this.epoch, n: this.notifier.count + 1, part: 0, parts: 1 });
      for (const event of recorded) this.eventNotifier.emit(event);
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function find<V>(table: Map<string, V>, matches: (record: V) => boolean): V | undefined {
  for (const record of table.values()) if (matches(record)) return record;
  return undefined;
}
