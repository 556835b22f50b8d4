import { DataSource, EntityManager } from 'typeorm';
import type * as TypeOrmDateUtils from 'typeorm/util/DateUtils';
import { SnapshotData, StorageChangeListener } from '../../core/changes';
import { FeatureFlagsError, NotFoundError, StorageUnavailableError, VersionConflictError } from '../../core/errors';
import { requirePeer } from '../../optional-peers';
import { assertChangeRequestFilter, changeRequestMatches } from '../admin-records';
import { AuditEventNotifier } from '../audit';
import { resolveEventFilter } from '../audit-filter';
import { ChangeRequestFilter, FeatureFlagAdminStorage } from '../feature-flag-admin-storage.interface';
import {
  AuditEventFilter,
  AuditEventListener,
  FeatureFlagStorage,
  FlagFilter,
  RevisionTracker,
} from '../feature-flag-storage.interface';
import { ContentRevision } from '../content-revision';
import { OverrideRef } from '../inputs';
import { RecordTransaction } from '../record-transaction';
import { ApiToken, AuditEvent, ChangeRequest, ClientKey, Environment, Flag, Override, Segment } from '../records';
import { ChangeNotifier, flagMatches } from '../storage-records';
import { TransactionalStorage } from '../transactional-storage';
import { prepareDataSource } from './data-source-setup';
import { isForeignKeyViolation, isTransient, isUnavailable, isUniqueViolation } from './driver-errors';
import { leanFlags, leanRows } from './lean-reads';
import { SQLITE_TYPES } from './migrations';
import { RecordStatements } from './record-statements';
import { tablesRevision } from './revision';
import { flagQuery, one, StaleWrite, TypeOrmTransaction, withRules } from './typeorm-transaction';

/** Options of TypeOrmStorage. */
export interface TypeOrmStorageOptions {
  /**
   * Whether the storage owns the data source: it then initializes it in `init()` and destroys it in
   * `close()`. Default false (the data source is the application's, initialized and closed by it).
   */
  ownsDataSource?: boolean;
  /** Whether `init()` runs the feature-flag migrations. Default: true when the storage owns the data source. */
  runMigrations?: boolean;
}

/** How many times a write is attempted when it loses a race (stale version, deadlock, vanished reference). */
const MAX_ATTEMPTS = 5;

/**
 * Stores flags, environments, overrides and segments in PostgreSQL, MySQL/MariaDB or SQLite through
 * TypeORM: the backend for apps that run more than one instance or must keep their flags.
 *
 * Every write runs in one transaction; updates are compare-and-set on `version`, so concurrent writers
 * never lose an update (an update that names a stale `version` is refused with VersionConflictError; one
 * that names none is applied on top of the newer record). Changes are reported to subscribers after commit.
 *
 * @example
 * const storage = new TypeOrmStorage(new DataSource(featureFlagDataSourceOptions(process.env.DATABASE_URL!)), { ownsDataSource: true });
 * await storage.init(); // connects and runs the migrations
 */
export class TypeOrmStorage extends TransactionalStorage implements FeatureFlagStorage, FeatureFlagAdminStorage {
  private readonly notifier = new ChangeNotifier();
  private readonly eventNotifier = new AuditEventNotifier();
  private readonly ownsDataSource: boolean;
  private readonly runMigrations: boolean;
  /**
   * TypeORM's SQLite drivers run every query, transactions included, on one connection: two transactions
   * in flight would interleave. The storage runs its operations one at a time there (and so needs no row
   * locks, which SQLite does not have). Elsewhere an update locks the row it reads (`SELECT … FOR UPDATE`),
   * so that concurrent updaters of one record queue instead of retrying; the compare-and-set stays as the
   * guarantee.
   */
  private readonly serialized: boolean;
  /** TypeORM's date formatting for SQLite (loaded with the storage: requiring the library needs no typeorm). */
  private readonly dateUtils: typeof TypeOrmDateUtils.DateUtils;
  private queue: Promise<unknown> = Promise.resolve();
  /** The write transactions' statements, prepared once. */
  private readonly statements: RecordStatements;

  constructor(
    private readonly dataSource: DataSource,
    options: TypeOrmStorageOptions = {},
  ) {
    super();
    this.ownsDataSource = options.ownsDataSource ?? false;
    this.runMigrations = options.runMigrations ?? this.ownsDataSource;
    this.serialized = SQLITE_TYPES.includes(dataSource.options.type);
    this.statements = new RecordStatements(dataSource);
    this.dateUtils = requirePeer<typeof TypeOrmDateUtils>(
      'typeorm/util/DateUtils',
      'backend',
      'TypeOrmStorage',
    ).DateUtils;
  }

  /** Connects (a data source it owns) and runs the migrations (when asked to); see data-source-setup.ts. */
  async init(): Promise<void> {
    await prepareDataSource(this.dataSource, this.ownsDataSource, this.runMigrations);
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.ownsDataSource && this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  subscribe(listener: StorageChangeListener): () => void {
    return this.notifier.subscribe(listener);
  }

  subscribeEvents(listener: AuditEventListener): () => void {
    return this.eventNotifier.subscribe(listener);
  }

  /**
   * A fingerprint of the flag tables — per table the row count, the sum of versions and the latest
   * update — which changes with every create, update and delete, whoever made it. Four aggregate
   * queries; the periodic check compares it instead of reloading.
   */
  async revision(): Promise<string> {
    return this.read(() => tablesRevision(this.dataSource));
  }

  /**
   * The revision a store holding exactly `data` reports: the same fingerprint, computed from records. An
   * instance compares it with `revision()` to know its snapshot is current without reloading it.
   */
  revisionOf(data: SnapshotData): string {
    return new ContentRevision(data).revision()!;
  }

  /** `revisionOf`, kept up to date one change at a time. */
  revisionTracker(data: SnapshotData): RevisionTracker {
    return new ContentRevision(data);
  }

  async loadSnapshot(): Promise<SnapshotData> {
    return this.read(async () => {
      // Raw rows, converted column by column as hydration would (see lean-reads): a fraction of its cost.
      const load = async (m: EntityManager): Promise<SnapshotData> => ({
        environments: await leanRows(m, Environment, ['createdAt', 'slug']),
        flags: await leanFlags(m),
        overrides: await leanRows(m, Override, ['createdAt', 'id']),
        segments: await leanRows(m, Segment, ['createdAt', 'key']),
      });
      // One snapshot for the five reads: REPEATABLE READ on PostgreSQL and MySQL; SQLite transactions
      // are serializable.
      return this.serialized ? this.dataSource.transaction(load) : this.dataSource.transaction('REPEATABLE READ', load);
    });
  }

  // Environments

  async getEnvironment(slug: string): Promise<Environment | null> {
    if (typeof slug !== 'string') return null;
    return this.read(() => one(this.dataSource.manager, Environment, { slug }));
  }

  async getEnvironmentById(id: string): Promise<Environment | null> {
    if (typeof id !== 'string') return null;
    return this.read(() => one(this.dataSource.manager, Environment, { id }));
  }

  async listEnvironments(): Promise<Environment[]> {
    return this.read(() => this.environmentQuery(this.dataSource.manager).getMany());
  }

  async getFlag(key: string): Promise<Flag | null> {
    if (typeof key !== 'string') return null;
    return this.read(async () => {
      const flag = await flagQuery(this.dataSource.manager).where({ key }).getOne();
      return flag ? withRules([flag])[0] : null;
    });
  }

  async listFlags(filter?: FlagFilter): Promise<Flag[]> {
    const flags = withRules(await this.read(() => flagQuery(this.dataSource.manager).getMany()));
    return flags.filter((f) => flagMatches(f, filter)).sort((a, b) => a.key.localeCompare(b.key));
  }

  async getOverride(ref: OverrideRef): Promise<Override | null> {
    if (typeof ref?.envId !== 'string' || typeof ref.flagId !== 'string') return null;
    return this.read(() => one(this.dataSource.manager, Override, { environmentId: ref.envId, flagId: ref.flagId }));
  }

  async listOverrides(filter?: Partial<OverrideRef>): Promise<Override[]> {
    const where: Partial<Record<'environmentId' | 'flagId', string>> = {};
    for (const [field, value] of [
      ['environmentId', filter?.envId],
      ['flagId', filter?.flagId],
    ] as const) {
      if (value === undefined) continue;
      if (typeof value !== 'string') return [];
      where[field] = value;
    }
    return this.read(() =>
      this.dataSource.manager
        .createQueryBuilder(Override, 'o')
        .where(where)
        .orderBy('o.createdAt')
        .addOrderBy('o.id')
        .getMany(),
    );
  }

  async getSegment(key: string): Promise<Segment | null> {
    if (typeof key !== 'string') return null;
    return this.read(() => one(this.dataSource.manager, Segment, { key }));
  }

  async listSegments(): Promise<Segment[]> {
    return this.read(() =>
      this.dataSource.manager.createQueryBuilder(Segment, 's').orderBy('s.createdAt').addOrderBy('s.key').getMany(),
    );
  }

  async listEvents(filter?: AuditEventFilter): Promise<AuditEvent[]> {
    const f = resolveEventFilter(filter);
    return this.read(async () => {
      const q = this.dataSource.manager.createQueryBuilder(AuditEvent, 'e');
      if (f.flagKey !== undefined) q.andWhere('e.flagKey = :flagKey', { flagKey: f.flagKey });
      if (f.environment !== undefined) q.andWhere('e.environment = :environment', { environment: f.environment });
      if (f.actor !== undefined) q.andWhere('e.actor = :actor', { actor: f.actor });
      if (f.types !== undefined) {
        if (f.types.length === 0) return [];
        q.andWhere('e.type IN (:...types)', { types: f.types });
      }
      if (f.since !== undefined) q.andWhere('e.createdAt >= :since', { since: this.dateParameter(f.since) });
      if (f.until !== undefined) q.andWhere('e.createdAt < :until', { until: this.dateParameter(f.until) });
      if (f.beforeId !== undefined) q.andWhere('e.id < :beforeId', { beforeId: f.beforeId });
      if (f.afterId !== undefined) q.andWhere('e.id > :afterId', { afterId: f.afterId });
      return q
        .orderBy('e.id', f.order === 'asc' ? 'ASC' : 'DESC')
        .take(f.limit)
        .getMany();
    });
  }

  async getApiToken(id: string): Promise<ApiToken | null> {
    return this.findOne(ApiToken, { id });
  }

  async findApiTokenBySecretHash(secretHash: string): Promise<ApiToken | null> {
    return this.findOne(ApiToken, { secretHash });
  }

  async listApiTokens(): Promise<ApiToken[]> {
    return this.read(() =>
      this.dataSource.manager.createQueryBuilder(ApiToken, 't').orderBy('t.createdAt').addOrderBy('t.id').getMany(),
    );
  }

  async getClientKey(id: string): Promise<ClientKey | null> {
    return this.findOne(ClientKey, { id });
  }

  async findClientKeyBySecretHash(secretHash: string): Promise<ClientKey | null> {
    return this.findOne(ClientKey, { secretHash });
  }

  async listClientKeys(): Promise<ClientKey[]> {
    return this.read(() =>
      this.dataSource.manager.createQueryBuilder(ClientKey, 't').orderBy('t.createdAt').addOrderBy('t.id').getMany(),
    );
  }

  async getChangeRequest(id: string): Promise<ChangeRequest | null> {
    return this.findOne(ChangeRequest, { id });
  }

  async listChangeRequests(filter?: ChangeRequestFilter): Promise<ChangeRequest[]> {
    assertChangeRequestFilter(filter);
    const q = this.dataSource.manager.createQueryBuilder(ChangeRequest, 'c');
    if (filter?.status !== undefined)
      q.andWhere('c.status IN (:...statuses)', {
        statuses: Array.isArray(filter.status) ? filter.status : [filter.status],
      });
    if (filter?.flagKey !== undefined) q.andWhere('c.flagKey = :flagKey', { flagKey: filter.flagKey });
    const requests = await this.read(() => q.orderBy('c.createdAt', 'DESC').addOrderBy('c.id', 'DESC').getMany());
    // Environments are a JSON list: filtered here.
    return requests.filter((c) => changeRequestMatches(c, filter));
  }

  /** A Date as the driver compares it with stored timestamps (SQLite keeps them as UTC text). */
  private dateParameter(date: Date): Date | string {
    return this.serialized ? this.dateUtils.mixedDateToUtcDatetimeString(date) : date;
  }

  // Internals

  /** Runs work alone when the driver has a single connection; otherwise at once. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (!this.serialized) return work();
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await this.exclusive(work);
    } catch (e) {
      throw this.unavailable(e) ?? e;
    }
  }

  /**
   * Runs a write in a transaction and reports its changes once it has committed. A write that lost a race
   * (a compare-and-set matched no row, a deadlock, a reference deleted meanwhile) runs again from the
   * start: it then sees the winner's data and either applies on top of it or refuses with the error that
   * data calls for (VersionConflictError for a stale `version`, NotFoundError…).
   */
  protected async transaction<T>(work: (tx: RecordTransaction) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      for (let attempt = 1; ; attempt++) {
        let tx: TypeOrmTransaction | undefined;
        try {
          const result = await this.dataSource.transaction((m) =>
            work((tx = new TypeOrmTransaction(m, !this.serialized, this.statements))),
          );
          for (const change of tx!.changes) this.notifier.emit(change);
          for (const event of tx!.events) this.eventNotifier.emit(event);
          return result;
        } catch (e) {
          if (e instanceof FeatureFlagsError) throw e;
          if (isUniqueViolation(e) && tx?.duplicate) throw tx.duplicate();
          const unavailable = this.unavailable(e);
          if (unavailable) throw unavailable;
          const raced = e instanceof StaleWrite || isTransient(e) || isForeignKeyViolation(e);
          if (!raced) throw e;
          if (attempt >= MAX_ATTEMPTS) {
            if (e instanceof StaleWrite) throw await this.conflictOf(e);
            throw e;
          }
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
        }
      }
    });
  }

  private unavailable(e: unknown): StorageUnavailableError | undefined {
    if (e instanceof FeatureFlagsError) return undefined;
    if (!this.dataSource.isInitialized || isUnavailable(e)) {
      return new StorageUnavailableError(
        `The feature-flag database cannot be reached: ${(e as Error)?.message ?? e}`,
        e,
      );
    }
    return undefined;
  }

  private async conflictOf(stale: StaleWrite): Promise<FeatureFlagsError> {
    const current = await one(this.dataSource.manager, stale.target, { id: stale.id });
    if (!current) return new NotFoundError(stale.entity as NotFoundError['entity'], stale.identifier);
    return new VersionConflictError(
      stale.entity,
      stale.identifier,
      stale.expectedVersion,
      (current as { version: number }).version,
    );
  }

  private environmentQuery(m: EntityManager) {
    return m.createQueryBuilder(Environment, 'e').orderBy('e.createdAt').addOrderBy('e.slug');
  }
  /** One row by a string column, or null (a value of another type matches nothing). */
  private async findOne<E extends ApiToken | ClientKey | ChangeRequest>(
    entity: new () => E,
    where: Partial<Record<keyof E, unknown>>,
  ): Promise<E | null> {
    if (typeof Object.values(where)[0] !== 'string') return null;
    return this.read(() => one(this.dataSource.manager, entity, where));
  }
}
