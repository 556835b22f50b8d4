import { DataSource, Logger } from 'typeorm';
import { TypeOrmStorage } from '../../lib/storage/typeorm/typeorm.storage';
import { emptyTables } from './typeorm-fixtures';

/**
 * The statements a write sends, for one database, counted with a TypeORM logger: an override write is its
 * transaction, one read of the override (with its flag's key and type and its environment's slug), its
 * write and its audit event — whatever the number of flags, and nothing that reads more than one row.
 */
export function describeWriteStatements(name: string, dataSource: () => Promise<DataSource>): void {
  describe(`${name} — statements of a write`, () => {
    let ds: DataSource;
    let storage: TypeOrmStorage;

    beforeEach(async () => {
      ds = await dataSource();
      await emptyTables(ds);
      storage = new TypeOrmStorage(ds);
      await storage.init();
    });

    /** The statements `work` sends through the data source (transaction control included). */
    async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
      const statements: string[] = [];
      const logger: Logger = {
        logQuery: (query) => void statements.push(query),
        logQueryError: () => undefined,
        logQuerySlow: () => undefined,
        logSchemaBuild: () => undefined,
        logMigration: () => undefined,
        log: () => undefined,
      };
      const own = ds.logger;
      Object.assign(ds, { logger });
      try {
        await work();
      } finally {
        Object.assign(ds, { logger: own });
      }
      return statements.map((s) => s.replace(/\s+/g, ' ').trim());
    }

    /** The first word(s) of each statement: its kind. */
    const kinds = (statements: string[]): string[] =>
      statements.map((s) => /^(BEGIN|START TRANSACTION|COMMIT|SELECT|UPDATE|INSERT|DELETE)/i.exec(s)?.[1] ?? s);
    const BEGIN = /^(BEGIN|START TRANSACTION)$/;

    async function store(flags: number) {
      const production = await storage.createEnvironment({ name: 'Production', slug: 'production' });
      const staging = await storage.createEnvironment({ name: 'Staging', slug: 'staging', parentId: production.id });
      let last;
      for (let i = 0; i < flags; i++) {
        last = await storage.createFlag({
          key: `flag-${i}`,
          rules: [{ priority: 1, conditions: [], serveEnabled: true }],
        });
        await storage.createOverride({ environmentId: staging.id, flagId: last.id, enabled: true });
        await storage.createOverride({ environmentId: production.id, flagId: last.id, enabled: false });
      }
      return { staging, flag: last! };
    }

    it('updates an override in five statements, whatever the number of flags, reading only the override', async () => {
      for (const flags of [1, 12]) {
        await emptyTables(ds);
        const { staging, flag } = await store(flags);
        const statements = await statementsOf(() =>
          storage.updateOverride({
            environmentId: staging.id,
            flagId: flag.id,
            enabled: false,
            percentage: 40,
            reason: 'rollout',
          }),
        );
        const [begin, ...rest] = kinds(statements);
        expect(begin).toMatch(BEGIN);
        expect(rest).toEqual(['SELECT', 'UPDATE', 'INSERT', 'COMMIT']);
        // The one read is of the override, by its environment and flag, its names read by id alongside.
        expect(statements[1]).toMatch(/FROM \S*feature_flag_environment_flags\S* \S*x\S* WHERE/);
        expect(statements[1].match(/ WHERE /g)).toHaveLength(4);
        // What the statements wrote and recorded is what a read returns.
        expect(await storage.getOverride({ envId: staging.id, flagId: flag.id })).toMatchObject({
          enabled: false,
          percentage: 40,
          reason: 'rollout',
          version: 2,
        });
        const [event] = await storage.listEvents({ limit: 1 });
        expect(event).toMatchObject({
          flagKey: flag.key,
          environment: 'staging',
          before: { enabled: true, percentage: null, version: 1 },
          after: { enabled: false, percentage: 40, reason: 'rollout', version: 2 },
        });
      }
    });

    it('deletes an override in five statements, and an unchanged update stops after its read', async () => {
      const { staging, flag } = await store(3);
      const ref = { environmentId: staging.id, flagId: flag.id };
      const unchanged = kinds(await statementsOf(() => storage.updateOverride({ ...ref, enabled: true })));
      expect(unchanged.slice(1)).toEqual(['SELECT', 'COMMIT']);
      const deleted = kinds(await statementsOf(() => storage.deleteOverride({ envId: staging.id, flagId: flag.id })));
      expect(deleted[0]).toMatch(BEGIN);
      expect(deleted.slice(1)).toEqual(['SELECT', 'DELETE', 'INSERT', 'COMMIT']);
      const [event] = await storage.listEvents({ limit: 1 });
      expect(event).toMatchObject({ type: 'override-deleted', flagKey: flag.key, environment: 'staging' });
    });
  });
}
