import { DataSource, EntityManager, EntityTarget, MigrationInterface, ObjectLiteral } from 'typeorm';
import { SnapshotData, StorageChange, StorageChangeListener } from '../../core/changes';
import { assertEnvironmentParent } from '../../core/environment-tree';
import {
  AlreadyExistsError,
  EnvironmentInUseError,
  FeatureFlagsError,
  NotFoundError,
  StorageUnavailableError,
  VersionConflictError,
} from '../../core/errors';
import type * as TypeOrmDateUtils from 'typeorm/util/DateUtils';
import { requirePeer } from '../../optional-peers';
import { ApiToken, AuditEvent, ChangeRequest, ClientKey, Environment, EnvironmentFlag, Flag, FlagRule, Segment } from '../records';
import { FEATURE_FLAG_ENTITIES } from './entities';
import { SQLITE_TYPES, migrationsFor } from './migrations';
import { TransactionalStorage } from '../transactional-storage';
import {
  auditEvent,
  AuditEventInput,
  changeRequestSubject,
  AuditEventNotifier,
  copyChangeRequest,
  environmentClonedEvent,
  environmentEventType,
  environmentState,
  flagEventType,
  flagState,
  overrideEventType,
  overrideState,
  resolveEventFilter,
  resolveWriteContext,
  ResolvedWriteContext,
  segmentEventType,
  segmentState,
} from '../audit';
import {
  assertChangeRequestFilter,
  buildApiToken,
  buildChangeRequest,
  changeRequestMatches,
} from '../admin-records';
import { API_TOKEN_RECORDS, buildClientKey, CLIENT_KEY_RECORDS, SecretRecord, SecretRecordKind } from '../secret-records';
import {
  AdminRecordAlreadyExistsError,
  AdminRecordNotFoundError,
  ApiTokenInput,
  ChangeRequestFilter,
  ClientKeyInput,
  ChangeRequestInput,
  ChangeRequestNotPendingError,
  FeatureFlagAdminStorage,
} from '../feature-flag-admin-storage.interface';
import {
  AuditEventFilter,
  AuditEventListener,
  EnvironmentClone,
  StorageWrite,
  StorageWriteResult,
  WriteContext,
  EnvironmentFlagInput,
  EnvironmentFlagRef,
  EnvironmentFlagUpdate,
  EnvironmentInput,
  EnvironmentUpdate,
  FeatureFlagStorage,
  FlagFilter,
  FlagInput,
  FlagUpdate,
  SegmentInput,
  SegmentUpdate,
} from '../feature-flag-storage.interface';
import { copyEnvironment, copyFlag, copyOverride, copySegment, flagMatches } from '../memory.storage';
import {
  assertVersion,
  ChangeNotifier,
  buildEnvironment,
  buildEnvironmentFlag,
  buildFlag,
  buildSegment,
  mergeEnvironment,
  mergeEnvironmentFlag,
  mergeFlag,
  mergeSegment,
  unchangedEnvironment,
  unchangedEnvironmentFlag,
  unchangedFlag,
  unchangedSegment,
} from '../storage-records';
import { clonedOverrideInputs } from '../cloned-overrides';

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

/** Thrown inside a transaction when a compare-and-set update matched no row: the write is retried. */
class StaleWrite extends Error {
  constructor(
    readonly entity: string,
    readonly identifier: string,
    readonly target: EntityTarget<ObjectLiteral>,
    readonly id: string,
    readonly expectedVersion: number,
  ) {
    super(`The ${entity} "${identifier}" changed during the write.`);
  }
}

/** What a write works with inside its transaction. */
interface Tx {
  m: EntityManager;
  /** Records a change, reported to listeners once the transaction has committed. */
  emit(change: StorageChange): void;
  /** Inserts the write's audit event (in the transaction), reported to listeners once it has committed. */
  audit(event: AuditEventInput): Promise<void>;
  /** The error a unique-key violation stands for in this write. */
  duplicate?: () => FeatureFlagsError;
}

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
}

function driverError(e: unknown): DriverError {
  const err = (e ?? {}) as DriverError & { driverError?: DriverError };
  return err.driverError ?? err;
}

/** PostgreSQL 23505, MySQL/MariaDB ER_DUP_ENTRY (1062), SQLite UNIQUE / PRIMARY KEY constraints. */
function isUniqueViolation(e: unknown): boolean {
  const { code, errno, message } = driverError(e);
  return (
    code === '23505' ||
    errno === 1062 ||
    code === 'ER_DUP_ENTRY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    (code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY KEY/.test(message ?? ''))
  );
}

/** PostgreSQL 23503, MySQL/MariaDB 1451/1452, SQLite FOREIGN KEY constraint. */
function isForeignKeyViolation(e: unknown): boolean {
  const { code, errno, message } = driverError(e);
  return (
    code === '23503' ||
    errno === 1451 ||
    errno === 1452 ||
    code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ||
    (code === 'SQLITE_CONSTRAINT' && /FOREIGN KEY/.test(message ?? ''))
  );
}

/** Serialization failures and deadlocks: the transaction was rolled back and may simply run again. */
function isTransient(e: unknown): boolean {
  const { code, errno } = driverError(e);
  return code === '40001' || code === '40P01' || errno === 1213 || code === 'SQLITE_BUSY';
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'SQLITE_CANTOPEN',
]);

/** The store cannot be reached: network errors, PostgreSQL classes 08 and 57P, refused logins, missing database. */
function isUnavailable(e: unknown): boolean {
  const { code, message } = driverError(e);
  if (code && (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || code === '28P01' || code === '3D000')) return true;
  return /Connection terminated|pool after calling end|Pool is closed|Can't add new command when connection is in closed state/i.test(message ?? '');
}

/** The tables whose fingerprint is the revision, in order (see `revision()`). */
const REVISION_TABLES: Function[] = [Flag, Environment, EnvironmentFlag, Segment];

/** A timestamp as the drivers return it (Date; SQLite: a UTC string) in milliseconds; '' for none. */
function millisOf(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  if (Object.prototype.toString.call(value) === '[object Date]') return String((value as Date).getTime());
  const s = String(value);
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s.replace(' ', 'T') : `${s.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? s : String(ms);
}

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
export class TypeOrmStorage extends TransactionalStorage<Tx> implements FeatureFlagStorage, FeatureFlagAdminStorage {
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

  constructor(
    private readonly dataSource: DataSource,
    options: TypeOrmStorageOptions = {},
  ) {
    super();
    this.ownsDataSource = options.ownsDataSource ?? false;
    this.runMigrations = options.runMigrations ?? this.ownsDataSource;
    this.serialized = SQLITE_TYPES.includes(dataSource.options.type);
    this.dateUtils = requirePeer<typeof TypeOrmDateUtils>('typeorm/util/DateUtils', 'backend', 'TypeOrmStorage').DateUtils;
  }

  async init(): Promise<void> {
    const ds = this.dataSource;
    if (this.ownsDataSource) {
      if (!ds.isInitialized) {
        try {
          await ds.initialize();
        } catch (e) {
          throw new StorageUnavailableError(`Cannot connect to the feature-flag database (${ds.options.type}): ${(e as Error).message}`, e);
        }
      }
      const schema = (ds.options as { schema?: string }).schema;
      if (schema && ds.options.type === 'postgres') {
        await ds.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replace(/"/g, '""')}"`);
      }
    } else {
      if (!ds.isInitialized) {
        throw new Error(
          'TypeOrmStorage: the shared data source is not initialized. Initialize it before init() (TypeOrmModule does), or pass { ownsDataSource: true }.',
        );
      }
      const missing = FEATURE_FLAG_ENTITIES.filter((entity) => !ds.hasMetadata(entity)).map((entity) => entity.name);
      if (missing.length > 0) {
        throw new Error(
          `TypeOrmStorage: the shared data source does not know the feature-flag entities (${missing.join(', ')}). ` +
            `Add FEATURE_FLAG_ENTITIES to its entities (TypeOrmModule.forRoot({ entities: [...yours, ...FEATURE_FLAG_ENTITIES] })) ` +
            `and FEATURE_FLAG_MIGRATIONS to its migrations, or give the feature-flag module its own connection.`,
        );
      }
    }
    if (this.runMigrations) {
      const ours = (migrationsFor(ds.options.type) as (new () => MigrationInterface)[]).map((m) => new m().name);
      const known = new Set(ds.migrations.map((m) => m.name ?? m.constructor.name));
      const absent = ours.filter((name) => !known.has(name as string));
      if (absent.length > 0) {
        throw new Error(
          `TypeOrmStorage: the data source's migrations lack the feature-flag migrations (${absent.join(', ')}). ` +
            `Add FEATURE_FLAG_MIGRATIONS (or migrationsFor('${ds.options.type}')) to its migrations.`,
        );
      }
      await ds.runMigrations({ transaction: 'all' });
    }
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
    return this.read(async () => {
      const parts: string[] = [];
      for (const entity of REVISION_TABLES) {
        const row = await this.dataSource
          .createQueryBuilder()
          .select('COUNT(*)', 'n')
          .addSelect('COALESCE(SUM(x.version), 0)', 'v')
          .addSelect('MAX(x.updatedAt)', 'u')
          .from(entity, 'x')
          .getRawOne<{ n: unknown; v: unknown; u: unknown }>();
        parts.push(`${Number(row?.n ?? 0)}.${Number(row?.v ?? 0)}.${millisOf(row?.u)}`);
      }
      return parts.join('/');
    });
  }

  /**
   * The revision a store holding exactly `data` reports: the same fingerprint, computed from records. An
   * instance compares it with `revision()` to know its snapshot is current without reloading it.
   */
  revisionOf(data: SnapshotData): string {
    return [data.flags, data.environments, data.environmentFlags, data.segments]
      .map((records) => {
        let v = 0;
        let u = -Infinity;
        for (const r of records as { version?: number; updatedAt?: Date }[]) {
          v += r.version ?? 0;
          // Not instanceof: copies made by structuredClone may hold Dates of another realm.
          const t = Object.prototype.toString.call(r.updatedAt) === '[object Date]' ? (r.updatedAt as Date).getTime() : NaN;
          if (t > u) u = t;
        }
        return `${records.length}.${v}.${records.length === 0 || u === -Infinity ? '' : u}`;
      })
      .join('/');
  }

  async loadSnapshot(): Promise<SnapshotData> {
    return this.read(async () => {
      const load = async (m: EntityManager): Promise<SnapshotData> => ({
        environments: await this.environmentQuery(m).getMany(),
        flags: await this.flagQuery(m).getMany().then(withRules),
        environmentFlags: await m.createQueryBuilder(EnvironmentFlag, 'o').orderBy('o.createdAt').addOrderBy('o.id').getMany(),
        segments: await m.createQueryBuilder(Segment, 's').orderBy('s.createdAt').addOrderBy('s.key').getMany(),
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

  async cloneEnvironment(source: string, input: EnvironmentInput, context?: WriteContext): Promise<EnvironmentClone> {
    return this.write(async (tx) => {
      const ctx = resolveWriteContext(context);
      const env = buildEnvironment(input);
      tx.duplicate = () => new AlreadyExistsError('environment', env.slug);
      const all = await this.lockEnvironments(tx.m);
      const from = all.find((e) => e.slug === source);
      if (!from) throw new NotFoundError('environment', String(source));
      await this.insertEnvironment(tx, all, env);
      // The clone serves what its source serves: every flag's resolved fields, wherever it is re-parented.
      const overrides = await tx.m.createQueryBuilder(EnvironmentFlag, 'o').orderBy('o.createdAt').addOrderBy('o.id').getMany();
      const allFlags = await this.flagQuery(tx.m).getMany().then(withRules);
      const inputs = clonedOverrideInputs(all, allFlags, overrides, from, env);
      const flags = new Map(inputs.map(({ flag }) => [flag.id, flag]));
      const copies = inputs.map(({ input: copyInput, flag }) => buildEnvironmentFlag(copyInput, flag.type));
      for (const copy of copies) {
        await this.insert(tx.m, EnvironmentFlag, copy);
        tx.emit({ kind: 'environmentFlag', op: 'upsert', environmentFlag: copyOverride(copy) });
      }
      await tx.audit(environmentClonedEvent(ctx, env, parentSlugIn(all, env), from.slug, copies, (c) => flags.get(c.flagId)!.key));
      return { environment: copyEnvironment(env), overrides: copies.map(copyOverride) };
    });
  }

  // Flags

  async getFlag(key: string): Promise<Flag | null> {
    if (typeof key !== 'string') return null;
    return this.read(() => this.findFlag(this.dataSource.manager, { key }));
  }

  async listFlags(filter?: FlagFilter): Promise<Flag[]> {
    const flags = withRules(await this.read(() => this.flagQuery(this.dataSource.manager).getMany()));
    return flags.filter((f) => flagMatches(f, filter)).sort((a, b) => a.key.localeCompare(b.key));
  }

  async deleteFlag(key: string, context?: WriteContext): Promise<boolean> {
    if (typeof key !== 'string') return false;
    return this.write((tx) => this.deleteFlagIn(tx, key, resolveWriteContext(context)));
  }

  // Environment flags (overrides)

  async getEnvironmentFlag(ref: EnvironmentFlagRef): Promise<EnvironmentFlag | null> {
    if (typeof ref?.envId !== 'string' || typeof ref.flagId !== 'string') return null;
    return this.read(() => one(this.dataSource.manager, EnvironmentFlag, { environmentId: ref.envId, flagId: ref.flagId }));
  }

  async listEnvironmentFlags(filter?: Partial<EnvironmentFlagRef>): Promise<EnvironmentFlag[]> {
    const where: Partial<Record<'environmentId' | 'flagId', string>> = {};
    for (const [field, value] of [
      ['environmentId', filter?.envId],
      ['flagId', filter?.flagId],
    ] as const) {
      if (value === undefined) continue;
      if (typeof value !== 'string') return [];
      where[field] = value;
    }
    return this.read(() => this.dataSource.manager.createQueryBuilder(EnvironmentFlag, 'o').where(where).orderBy('o.createdAt').addOrderBy('o.id').getMany());
  }

  async deleteEnvironmentFlag(ref: EnvironmentFlagRef, context?: WriteContext): Promise<boolean> {
    if (typeof ref?.envId !== 'string' || typeof ref.flagId !== 'string') return false;
    return this.write((tx) => this.deleteEnvironmentFlagIn(tx, ref, resolveWriteContext(context)));
  }

  // Segments

  async getSegment(key: string): Promise<Segment | null> {
    if (typeof key !== 'string') return null;
    return this.read(() => one(this.dataSource.manager, Segment, { key }));
  }

  async listSegments(): Promise<Segment[]> {
    return this.read(() => this.dataSource.manager.createQueryBuilder(Segment, 's').orderBy('s.createdAt').addOrderBy('s.key').getMany());
  }

  async deleteSegment(key: string, context?: WriteContext): Promise<boolean> {
    if (typeof key !== 'string') return false;
    return this.write((tx) => this.deleteSegmentIn(tx, key, resolveWriteContext(context)));
  }

  // Batches and the audit log

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

  // API tokens and client keys (secret records: one implementation, two kinds)

  async createApiToken(input: ApiTokenInput, context?: WriteContext): Promise<ApiToken> {
    return this.createSecretRecord(API_TOKEN_RECORDS, ApiToken, (ctx) => buildApiToken(input, ctx), context);
  }

  async getApiToken(id: string): Promise<ApiToken | null> {
    return this.getSecretRecord(ApiToken, { id });
  }

  async findApiTokenBySecretHash(secretHash: string): Promise<ApiToken | null> {
    return this.getSecretRecord(ApiToken, { secretHash });
  }

  async listApiTokens(): Promise<ApiToken[]> {
    return this.listSecretRecords(ApiToken);
  }

  async revokeApiToken(id: string, context?: WriteContext): Promise<ApiToken> {
    return this.revokeSecretRecord(API_TOKEN_RECORDS, ApiToken, id, context);
  }

  async createClientKey(input: ClientKeyInput, context?: WriteContext): Promise<ClientKey> {
    return this.createSecretRecord(CLIENT_KEY_RECORDS, ClientKey, (ctx) => buildClientKey(input, ctx), context);
  }

  async getClientKey(id: string): Promise<ClientKey | null> {
    return this.getSecretRecord(ClientKey, { id });
  }

  async findClientKeyBySecretHash(secretHash: string): Promise<ClientKey | null> {
    return this.getSecretRecord(ClientKey, { secretHash });
  }

  async listClientKeys(): Promise<ClientKey[]> {
    return this.listSecretRecords(ClientKey);
  }

  async revokeClientKey(id: string, context?: WriteContext): Promise<ClientKey> {
    return this.revokeSecretRecord(CLIENT_KEY_RECORDS, ClientKey, id, context);
  }

  private async createSecretRecord<T extends SecretRecord & ObjectLiteral>(
    kind: SecretRecordKind<T>,
    entity: EntityTarget<T>,
    build: (ctx: ResolvedWriteContext) => T,
    context?: WriteContext,
  ): Promise<T> {
    const ctx = resolveWriteContext(context);
    const record = build(ctx);
    return this.write(async (tx) => {
      tx.duplicate = () => new AdminRecordAlreadyExistsError(kind.entity, record.secretHint);
      if (await exists(tx.m, entity, { id: record.id })) throw new AdminRecordAlreadyExistsError(kind.entity, record.id);
      if (await exists(tx.m, entity, { secretHash: record.secretHash })) throw new AdminRecordAlreadyExistsError(kind.entity, record.secretHint);
      await this.insert(tx.m, entity, record);
      await tx.audit(auditEvent(kind.createdEvent, ctx, kind.subject(null, record)));
      return kind.copy(record);
    });
  }

  private async getSecretRecord<T extends SecretRecord & ObjectLiteral>(entity: EntityTarget<T>, where: { id: string } | { secretHash: string }): Promise<T | null> {
    if (typeof Object.values(where)[0] !== 'string') return null;
    return this.read(() => one(this.dataSource.manager, entity, where));
  }

  private async listSecretRecords<T extends SecretRecord & ObjectLiteral>(entity: EntityTarget<T>): Promise<T[]> {
    return this.read(() => this.dataSource.manager.createQueryBuilder(entity, 't').orderBy('t.createdAt').addOrderBy('t.id').getMany());
  }

  private async revokeSecretRecord<T extends SecretRecord & ObjectLiteral>(kind: SecretRecordKind<T>, entity: EntityTarget<T>, id: string, context?: WriteContext): Promise<T> {
    const ctx = resolveWriteContext(context);
    return this.write(async (tx) => {
      const record = typeof id === 'string' ? await one(tx.m, entity, { id }, !this.serialized) : null;
      if (!record) throw new AdminRecordNotFoundError(kind.entity, String(id));
      if (record.revokedAt) return record;
      const next = kind.revoked(record, ctx);
      await this.compareAndSet(tx.m, entity, record, next, kind.entity, id);
      await tx.audit(auditEvent(kind.revokedEvent, ctx, kind.subject(record, next)));
      return kind.copy(next);
    });
  }

  // Change requests

  async createChangeRequest(input: ChangeRequestInput, context?: WriteContext): Promise<ChangeRequest> {
    const ctx = resolveWriteContext(context);
    const request = buildChangeRequest(input, ctx);
    return this.write(async (tx) => {
      tx.duplicate = () => new AdminRecordAlreadyExistsError('change request', request.id);
      if (await exists(tx.m, ChangeRequest, { id: request.id })) throw tx.duplicate();
      await this.insert(tx.m, ChangeRequest, request);
      await tx.audit(auditEvent('change-request-created', ctx, changeRequestSubject(request, null)));
      return copyChangeRequest(request);
    });
  }

  async getChangeRequest(id: string): Promise<ChangeRequest | null> {
    if (typeof id !== 'string') return null;
    return this.read(() => one(this.dataSource.manager, ChangeRequest, { id }));
  }

  async listChangeRequests(filter?: ChangeRequestFilter): Promise<ChangeRequest[]> {
    assertChangeRequestFilter(filter);
    const q = this.dataSource.manager.createQueryBuilder(ChangeRequest, 'c');
    if (filter?.status !== undefined) q.andWhere('c.status IN (:...statuses)', { statuses: Array.isArray(filter.status) ? filter.status : [filter.status] });
    if (filter?.flagKey !== undefined) q.andWhere('c.flagKey = :flagKey', { flagKey: filter.flagKey });
    const requests = await this.read(() => q.orderBy('c.createdAt', 'DESC').addOrderBy('c.id', 'DESC').getMany());
    // Environments are a JSON list: filtered here.
    return requests.filter((c) => changeRequestMatches(c, filter));
  }

  // Writes, inside a transaction (`write`): each records its change and its audit event.

  protected override applyWrite(tx: Tx, w: StorageWrite, ctx: ResolvedWriteContext): Promise<StorageWriteResult> {
    // A unique-key violation is reported as the duplicate of the write being applied, not an earlier one.
    tx.duplicate = undefined;
    return super.applyWrite(tx, w, ctx);
  }

  protected async saveChangeRequest(tx: Tx, pending: ChangeRequest, decided: ChangeRequest): Promise<void> {
    await this.compareAndSet(tx.m, ChangeRequest, pending, decided, 'change request', decided.id);
  }

  /** Inserts a new environment (every environment locked in `all`), reporting the change but no event. */
  private async insertEnvironment(tx: Tx, all: Environment[], env: Environment): Promise<void> {
    if (all.some((e) => e.slug === env.slug)) throw new AlreadyExistsError('environment', env.slug);
    if (all.some((e) => e.id === env.id)) throw new AlreadyExistsError('environment', env.id);
    assertEnvironmentParent(all, env.slug, null, env.parentId);
    await this.insert(tx.m, Environment, env);
    tx.emit({ kind: 'environment', op: 'upsert', environment: copyEnvironment(env) });
  }

  protected async createEnvironmentIn(tx: Tx, input: EnvironmentInput, ctx: ResolvedWriteContext): Promise<Environment> {
    const env = buildEnvironment(input);
    tx.duplicate = () => new AlreadyExistsError('environment', env.slug);
    const all = await this.lockEnvironments(tx.m);
    await this.insertEnvironment(tx, all, env);
    await tx.audit(auditEvent(environmentEventType(null, env), ctx, { environment: env.slug, after: environmentState(env, parentSlugIn(all, env)) }));
    return copyEnvironment(env);
  }

  protected async updateEnvironmentIn(tx: Tx, update: EnvironmentUpdate, ctx: ResolvedWriteContext): Promise<Environment> {
    const all = await this.lockEnvironments(tx.m);
    const byId = 'id' in update && update.id !== undefined;
    const existing = byId ? all.find((e) => e.id === update.id) : all.find((e) => e.slug === (update as Environment).slug);
    if (!existing) throw new NotFoundError('environment', byId ? String(update.id) : (update as Environment).slug);
    const next = mergeEnvironment(existing, update);
    if (unchangedEnvironment(existing, next)) return copyEnvironment(existing);
    tx.duplicate = () => new AlreadyExistsError('environment', next.slug);
    if (next.slug !== existing.slug && all.some((e) => e.slug === next.slug)) throw new AlreadyExistsError('environment', next.slug);
    if (next.parentId !== existing.parentId) assertEnvironmentParent(all, next.slug, next.id, next.parentId);
    await this.compareAndSet(tx.m, Environment, existing, next, 'environment', existing.slug);
    tx.emit({ kind: 'environment', op: 'upsert', environment: copyEnvironment(next) });
    await tx.audit(
      auditEvent(environmentEventType(existing, next), ctx, {
        environment: existing.slug,
        before: environmentState(existing, parentSlugIn(all, existing)),
        after: environmentState(next, parentSlugIn(all, next)),
      }),
    );
    return copyEnvironment(next);
  }

  protected async deleteEnvironmentIn(tx: Tx, slug: string, ctx: ResolvedWriteContext): Promise<boolean> {
    if (typeof slug !== 'string') return false;
    const all = await this.lockEnvironments(tx.m);
    const env = all.find((e) => e.slug === slug);
    if (!env) return false;
    const children = all.filter((e) => e.parentId === env.id).map((e) => e.slug);
    if (children.length > 0) throw new EnvironmentInUseError(slug, children);
    const deleted = await tx.m.createQueryBuilder().delete().from(EnvironmentFlag).where({ environmentId: env.id }).execute();
    await tx.m.createQueryBuilder().delete().from(Environment).where({ id: env.id }).execute();
    tx.emit({ kind: 'environment', op: 'delete', id: env.id, slug: env.slug });
    await tx.audit(
      auditEvent(environmentEventType(env, null), ctx, {
        environment: env.slug,
        before: environmentState(env, parentSlugIn(all, env)),
        data: { deletedOverrides: deleted.affected ?? 0 },
      }),
    );
    return true;
  }

  protected async createFlagIn(tx: Tx, input: FlagInput, ctx: ResolvedWriteContext): Promise<Flag> {
    const flag = buildFlag(input);
    tx.duplicate = () => new AlreadyExistsError('flag', flag.key);
    if (await exists(tx.m, Flag, { key: flag.key })) throw new AlreadyExistsError('flag', flag.key);
    if (await exists(tx.m, Flag, { id: flag.id })) throw new AlreadyExistsError('flag', flag.id);
    await this.insert(tx.m, Flag, flag);
    await this.insertRules(tx.m, flag.rules);
    tx.emit({ kind: 'flag', op: 'upsert', flag: copyFlag(flag) });
    await tx.audit(auditEvent(flagEventType(null, flag), ctx, { flagKey: flag.key, after: flagState(flag) }));
    return copyFlag(flag);
  }

  protected async updateFlagIn(tx: Tx, update: FlagUpdate, ctx: ResolvedWriteContext): Promise<Flag> {
    const byId = 'id' in update && update.id !== undefined;
    const identifier = String(byId ? update.id : (update as { key: string }).key);
    const existing = await this.findFlag(tx.m, byId ? { id: update.id } : { key: (update as { key: string }).key }, true);
    if (!existing) throw new NotFoundError('flag', identifier);
    const next = mergeFlag(existing, update);
    if (unchangedFlag(existing, next)) return copyFlag(existing);
    tx.duplicate = () => new AlreadyExistsError('flag', next.key);
    if (next.key !== existing.key && (await exists(tx.m, Flag, { key: next.key }))) throw new AlreadyExistsError('flag', next.key);
    // Rules are replaced only once the compare-and-set has won.
    await this.compareAndSet(tx.m, Flag, existing, next, 'flag', existing.key);
    if (update.rules !== undefined) {
      await tx.m.createQueryBuilder().delete().from(FlagRule).where({ flagId: next.id }).execute();
      await this.insertRules(tx.m, next.rules);
    }
    tx.emit({ kind: 'flag', op: 'upsert', flag: copyFlag(next) });
    await tx.audit(auditEvent(flagEventType(existing, next), ctx, { flagKey: existing.key, before: flagState(existing), after: flagState(next) }));
    return copyFlag(next);
  }

  protected async deleteFlagIn(tx: Tx, key: string, ctx: ResolvedWriteContext): Promise<boolean> {
    if (typeof key !== 'string') return false;
    const flag = await this.findFlag(tx.m, { key }, true);
    if (!flag) return false;
    const deleted = await tx.m.createQueryBuilder().delete().from(EnvironmentFlag).where({ flagId: flag.id }).execute();
    await tx.m.createQueryBuilder().delete().from(FlagRule).where({ flagId: flag.id }).execute();
    await tx.m.createQueryBuilder().delete().from(Flag).where({ id: flag.id }).execute();
    tx.emit({ kind: 'flag', op: 'delete', id: flag.id, key: flag.key });
    await tx.audit(auditEvent(flagEventType(flag, null), ctx, { flagKey: flag.key, before: flagState(flag), data: { deletedOverrides: deleted.affected ?? 0 } }));
    return true;
  }

  protected async createEnvironmentFlagIn(tx: Tx, input: EnvironmentFlagInput, ctx: ResolvedWriteContext): Promise<EnvironmentFlag> {
    const env = typeof input?.environmentId === 'string' ? await one(tx.m, Environment, { id: input.environmentId }) : null;
    if (!env) throw new NotFoundError('environment', input?.environmentId);
    const flag = typeof input.flagId === 'string' ? await one(tx.m, Flag, { id: input.flagId }) : null;
    if (!flag) throw new NotFoundError('flag', input.flagId);
    const override = buildEnvironmentFlag(input, flag.type);
    tx.duplicate = () => new AlreadyExistsError('environment flag', `${flag.key}@${env.slug}`);
    if (await exists(tx.m, EnvironmentFlag, { environmentId: env.id, flagId: flag.id })) throw tx.duplicate();
    if (await exists(tx.m, EnvironmentFlag, { id: override.id })) throw new AlreadyExistsError('environment flag', override.id);
    await this.insert(tx.m, EnvironmentFlag, override);
    tx.emit({ kind: 'environmentFlag', op: 'upsert', environmentFlag: copyOverride(override) });
    await tx.audit(auditEvent(overrideEventType(null, override), ctx, { flagKey: flag.key, environment: env.slug, after: overrideState(override) }));
    return copyOverride(override);
  }

  protected async updateEnvironmentFlagIn(tx: Tx, update: EnvironmentFlagUpdate, ctx: ResolvedWriteContext): Promise<EnvironmentFlag> {
    const byId = 'id' in update && update.id !== undefined;
    const { environmentId, flagId } = update as Partial<EnvironmentFlag>;
    let existing: EnvironmentFlag | null = null;
    if (byId) existing = typeof update.id === 'string' ? await one(tx.m, EnvironmentFlag, { id: update.id }, !this.serialized) : null;
    else if (typeof environmentId === 'string' && typeof flagId === 'string') {
      existing = await one(tx.m, EnvironmentFlag, { environmentId, flagId }, !this.serialized);
    }
    if (!existing) throw new NotFoundError('environment flag', byId ? String(update.id) : `${flagId}@${environmentId}`);
    const flag = (await one(tx.m, Flag, { id: existing.flagId }))!;
    const env = (await one(tx.m, Environment, { id: existing.environmentId }))!;
    const next = mergeEnvironmentFlag(existing, update, flag.type);
    if (unchangedEnvironmentFlag(existing, next)) return copyOverride(existing);
    await this.compareAndSet(tx.m, EnvironmentFlag, existing, next, 'environment flag', existing.id);
    tx.emit({ kind: 'environmentFlag', op: 'upsert', environmentFlag: copyOverride(next) });
    await tx.audit(
      auditEvent(overrideEventType(existing, next), ctx, { flagKey: flag.key, environment: env.slug, before: overrideState(existing), after: overrideState(next) }),
    );
    return copyOverride(next);
  }

  protected async deleteEnvironmentFlagIn(tx: Tx, ref: EnvironmentFlagRef, ctx: ResolvedWriteContext): Promise<boolean> {
    if (typeof ref?.envId !== 'string' || typeof ref.flagId !== 'string') return false;
    const o = await one(tx.m, EnvironmentFlag, { environmentId: ref.envId, flagId: ref.flagId }, !this.serialized);
    if (!o) return false;
    const flag = (await one(tx.m, Flag, { id: o.flagId }))!;
    const env = (await one(tx.m, Environment, { id: o.environmentId }))!;
    await tx.m.createQueryBuilder().delete().from(EnvironmentFlag).where({ id: o.id }).execute();
    tx.emit({ kind: 'environmentFlag', op: 'delete', id: o.id, environmentId: o.environmentId, flagId: o.flagId });
    await tx.audit(auditEvent(overrideEventType(o, null), ctx, { flagKey: flag.key, environment: env.slug, before: overrideState(o) }));
    return true;
  }

  protected async createSegmentIn(tx: Tx, input: SegmentInput, ctx: ResolvedWriteContext): Promise<Segment> {
    const segment = buildSegment(input);
    tx.duplicate = () => new AlreadyExistsError('segment', segment.key);
    if (await exists(tx.m, Segment, { key: segment.key })) throw new AlreadyExistsError('segment', segment.key);
    if (await exists(tx.m, Segment, { id: segment.id })) throw new AlreadyExistsError('segment', segment.id);
    if (segment.parentId && !(await exists(tx.m, Segment, { id: segment.parentId }))) throw new NotFoundError('segment', segment.parentId);
    await this.insert(tx.m, Segment, segment);
    tx.emit({ kind: 'segment', op: 'upsert', segment: copySegment(segment) });
    await tx.audit(auditEvent(segmentEventType(null, segment), ctx, { after: segmentState(segment), data: { segment: segment.key } }));
    return copySegment(segment);
  }

  protected async updateSegmentIn(tx: Tx, update: SegmentUpdate, ctx: ResolvedWriteContext): Promise<Segment> {
    const byId = 'id' in update && update.id !== undefined;
    const identifier = String(byId ? update.id : (update as Segment).key);
    const where = byId ? { id: update.id } : { key: (update as Segment).key };
    const existing = typeof (byId ? update.id : (update as Segment).key) === 'string' ? await one(tx.m, Segment, where, !this.serialized) : null;
    if (!existing) throw new NotFoundError('segment', identifier);
    const next = mergeSegment(existing, update);
    if (unchangedSegment(existing, next)) return copySegment(existing);
    tx.duplicate = () => new AlreadyExistsError('segment', next.key);
    if (next.key !== existing.key && (await exists(tx.m, Segment, { key: next.key }))) throw new AlreadyExistsError('segment', next.key);
    if (next.parentId && !(await exists(tx.m, Segment, { id: next.parentId }))) throw new NotFoundError('segment', next.parentId);
    await this.compareAndSet(tx.m, Segment, existing, next, 'segment', existing.key);
    tx.emit({ kind: 'segment', op: 'upsert', segment: copySegment(next) });
    await tx.audit(auditEvent(segmentEventType(existing, next), ctx, { before: segmentState(existing), after: segmentState(next), data: { segment: existing.key } }));
    return copySegment(next);
  }

  protected async deleteSegmentIn(tx: Tx, key: string, ctx: ResolvedWriteContext): Promise<boolean> {
    if (typeof key !== 'string') return false;
    const s = await one(tx.m, Segment, { key }, !this.serialized);
    if (!s) return false;
    await tx.m.createQueryBuilder().delete().from(Segment).where({ id: s.id }).execute();
    tx.emit({ kind: 'segment', op: 'delete', id: s.id, key: s.key });
    await tx.audit(auditEvent(segmentEventType(s, null), ctx, { before: segmentState(s), data: { segment: s.key } }));
    return true;
  }

  /** A pending change request, locked until the transaction ends. */
  protected async pendingRequest(tx: Tx, id: string, version: number | undefined): Promise<ChangeRequest> {
    const request = typeof id === 'string' ? await one(tx.m, ChangeRequest, { id }, !this.serialized) : null;
    if (!request) throw new AdminRecordNotFoundError('change request', String(id));
    if (request.status !== 'pending') throw new ChangeRequestNotPendingError(id, request.status);
    assertVersion('change request', id, request.version, version);
    return request;
  }

  /** Inserts an audit event, returning it with the id the database gave it. */
  private async insertEvent(m: EntityManager, event: AuditEventInput): Promise<AuditEvent> {
    const row = new AuditEvent({ ...event });
    const result = await m.createQueryBuilder().insert().into(AuditEvent).values(row as never).updateEntity(true).execute();
    const id = (result.identifiers[0]?.id ?? row.id) as number | string;
    return new AuditEvent({ ...event, id: Number(id) });
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
  protected async write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      for (let attempt = 1; ; attempt++) {
        const changes: StorageChange[] = [];
        const events: AuditEvent[] = [];
        const tx: Tx = {
          m: this.dataSource.manager,
          emit: (change) => void changes.push(change),
          audit: async (event) => void events.push(await this.insertEvent(tx.m, event)),
        };
        try {
          const result = await this.dataSource.transaction((m) => work(Object.assign(tx, { m })));
          for (const change of changes) this.notifier.emit(change);
          for (const event of events) this.eventNotifier.emit(event);
          return result;
        } catch (e) {
          if (e instanceof FeatureFlagsError) throw e;
          if (isUniqueViolation(e) && tx.duplicate) throw tx.duplicate();
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
      return new StorageUnavailableError(`The feature-flag database cannot be reached: ${(e as Error)?.message ?? e}`, e);
    }
    return undefined;
  }

  private async conflictOf(stale: StaleWrite): Promise<FeatureFlagsError> {
    const current = await one(this.dataSource.manager, stale.target, { id: stale.id });
    if (!current) return new NotFoundError(stale.entity as NotFoundError['entity'], stale.identifier);
    return new VersionConflictError(stale.entity, stale.identifier, stale.expectedVersion, (current as { version: number }).version);
  }

  /** Every environment, locked against concurrent environment writes (SQLite writes are serialized anyway). */
  private lockEnvironments(m: EntityManager): Promise<Environment[]> {
    const query = m.createQueryBuilder(Environment, 'e').orderBy('e.id');
    return (this.serialized ? query : query.setLock('pessimistic_write')).getMany();
  }

  private environmentQuery(m: EntityManager) {
    return m.createQueryBuilder(Environment, 'e').orderBy('e.createdAt').addOrderBy('e.slug');
  }

  /** Flags with their rules in written order, in one statement (so a flag and its rules are consistent). */
  private flagQuery(m: EntityManager) {
    return m.createQueryBuilder(Flag, 'f').leftJoinAndSelect('f.rules', 'r').orderBy('f.key').addOrderBy('r.position');
  }

  /** A flag with its rules; `lock` first locks its row until the transaction ends (an update's read). */
  private async findFlag(m: EntityManager, where: { id?: string; key?: string }, lock = false): Promise<Flag | null> {
    const value = where.id ?? where.key;
    if (typeof value !== 'string') return null;
    // Locked apart from the read: PostgreSQL cannot lock the nullable side of the rules join.
    if (lock && !this.serialized && !(await one(m, Flag, where, true))) return null;
    const flag = await this.flagQuery(m).where(where).getOne();
    return flag ? withRules([flag])[0] : null;
  }

  private async insert<E extends ObjectLiteral>(m: EntityManager, target: EntityTarget<E>, record: E): Promise<void> {
    await m.createQueryBuilder().insert().into(target).values(record as never).updateEntity(false).execute();
  }

  private async insertRules(m: EntityManager, rules: FlagRule[]): Promise<void> {
    if (rules.length === 0) return;
    const rows = rules.map((rule, position) => Object.assign(new FlagRule(rule), { position }));
    await m.createQueryBuilder().insert().into(FlagRule).values(rows as never).updateEntity(false).execute();
  }

  /**
   * `UPDATE … SET <every column of next>, version = <stored + 1> WHERE id = :id AND version = :stored`
   * (`next.version` is the stored one plus one): a row that someone else updated since it was read
   * matches nothing, and the write starts over.
   */
  private async compareAndSet<E extends { id: string; version: number }>(
    m: EntityManager,
    target: EntityTarget<E>,
    existing: E,
    next: E,
    entity: string,
    identifier: string,
  ): Promise<void> {
    const values: Record<string, unknown> = {};
    for (const column of m.connection.getMetadata(target).columns) {
      if (column.isPrimary || column.isCreateDate) continue;
      values[column.propertyName] = (next as Record<string, unknown>)[column.propertyName];
    }
    const result = await m
      .createQueryBuilder()
      .update(target)
      .set(values as never)
      .where({ id: existing.id, version: existing.version })
      .execute();
    if (result.affected === 0) throw new StaleWrite(entity, identifier, target as EntityTarget<ObjectLiteral>, existing.id, existing.version);
  }
}

/** The first row matching `where` (column values by property name), as a fresh entity. */
function one<E extends ObjectLiteral>(m: EntityManager, target: EntityTarget<E>, where: ObjectLiteral, lock = false): Promise<E | null> {
  const query = m.createQueryBuilder(target, 'x').where(where);
  return (lock ? query.setLock('pessimistic_write') : query).getOne();
}

/** The slug of an environment's parent, among `all`. */
function parentSlugIn(all: Environment[], env: Environment): string | null {
  return env.parentId ? (all.find((e) => e.id === env.parentId)?.slug ?? null) : null;
}

/** Whether a row matches `where`. */
function exists(m: EntityManager, target: EntityTarget<ObjectLiteral>, where: ObjectLiteral): Promise<boolean> {
  return m.createQueryBuilder(target, 'x').where(where).getExists();
}

/** Flags as TypeORM returns them, with `rules` always an array. */
function withRules(flags: Flag[]): Flag[] {
  for (const flag of flags) flag.rules ??= [];
  return flags;
}
