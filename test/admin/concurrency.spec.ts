import { INestApplication } from '@nestjs/common';
import { AuditEvent } from '../../lib';
import { describeWithService } from '../support/services';
import {
  ADMIN,
  AdminBackend,
  closeApps,
  flagKey,
  http,
  postgresBackend,
  seedFlag,
  sqliteBackend,
  startAdminApp,
} from './support/admin-app';

const WRITERS = 50;

interface Applied {
  writer: number;
  version: number;
  attempts: number;
}

/** What the concurrency runs measured, per backend (printed once at the end). */
const report: string[] = [];

/**
 * No lost updates over HTTP: many clients change one override at once. Each either sends If-Match with
 * the version it read and retries on 409 until its change applies, or sends no version at all (applied on
 * top of whatever is current). Either way every change is applied exactly once, the final state is the
 * last one applied, and the audit log holds exactly one event per applied change.
 */
function describeConcurrency(backend: AdminBackend): void {
  let app: INestApplication;
  const api = () => http(app);

  beforeAll(async () => {
    app = await startAdminApp({ backend });
  });

  afterAll(async () => {
    await closeApps();
    await backend.dispose();
  });

  async function overrideEvents(key: string): Promise<AuditEvent[]> {
    const res = await api()
      .get(`/api/admin/events?flag=${key}&environment=staging&after=0&limit=1000`)
      .set(ADMIN)
      .expect(200);
    return res.body.items;
  }

  it(`${WRITERS} concurrent PATCHes with If-Match, retrying on 409: each applied once, the last one wins, one event each`, async () => {
    const key = flagKey('contended');
    await seedFlag(app, key, { staging: { enabled: true, percentage: 0 } });
    let conflicts = 0;
    const started = Date.now();
    const applied = await Promise.all(
      Array.from({ length: WRITERS }, async (_, writer): Promise<Applied> => {
        for (let attempts = 1; ; attempts++) {
          const read = await api().get(`/api/admin/feature-flags/${key}?env=staging`).set(ADMIN).expect(200);
          const res = await api()
            .patch(`/api/admin/feature-flags/${key}`)
            .set(ADMIN)
            .set('If-Match', read.headers.etag)
            .send({ environment: 'staging', percentage: writer + 1, reason: `writer ${writer}` });
          if (res.status === 200) {
            expect(res.body.override).toMatchObject({ percentage: writer + 1, reason: `writer ${writer}` });
            expect(res.headers.etag).toBe(`"${res.body.override.version}"`);
            return { writer, version: res.body.override.version, attempts };
          }
          expect(res.status).toBe(409);
          expect(res.body).toMatchObject({ code: 'VERSION_CONFLICT' });
          conflicts++;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
        }
      }),
    );
    const elapsed = Date.now() - started;
    // Every writer applied exactly once, each on a version nobody else got.
    expect(applied.map((a) => a.version).sort((x, y) => x - y)).toEqual(
      Array.from({ length: WRITERS }, (_, i) => i + 2),
    );
    // The final state is the last change applied.
    const last = applied.find((a) => a.version === WRITERS + 1)!;
    const final = await api().get(`/api/admin/feature-flags/${key}?env=staging`).set(ADMIN).expect(200);
    expect(final.body.override).toMatchObject({
      percentage: last.writer + 1,
      reason: `writer ${last.writer}`,
      version: WRITERS + 1,
    });
    // One audit event per applied change (after the create that set the override up), each recording that change.
    const events = (await overrideEvents(key)).slice(1);
    expect(events).toHaveLength(applied.length);
    for (const a of applied) {
      const event = events.find((e) => (e.after as { version: number }).version === a.version)!;
      expect(event).toMatchObject({
        type: 'override-updated',
        actor: 'bootstrap-token',
        reason: `writer ${a.writer}`,
        after: { percentage: a.writer + 1 },
      });
      expect((event.before as { version: number }).version).toBe(a.version - 1);
    }
    report.push(
      `${backend.name}, If-Match: ${WRITERS} writers, ${applied.length} applied (versions 2–${WRITERS + 1}), ${conflicts} 409s retried, ` +
        `${events.length} events, at most ${Math.max(...applied.map((a) => a.attempts))} attempts, ${elapsed} ms`,
    );
    // Some thousand HTTP round trips (each writer retries until it wins: ~1,000 409s): 14–26 s on an idle
    // two-core machine, so the default 30 s is too close to tell a slow machine from a hang.
  }, 120_000);

  it(`${WRITERS} concurrent PATCHes without a version: none lost, versions 2–${WRITERS + 1}, one event each`, async () => {
    const key = flagKey('blind');
    await seedFlag(app, key, { staging: { enabled: true, percentage: 0 } });
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: WRITERS }, (_, writer) =>
        api()
          .patch(`/api/admin/feature-flags/${key}`)
          .set(ADMIN)
          .send({ environment: 'staging', percentage: writer + 1 }),
      ),
    );
    const elapsed = Date.now() - started;
    expect(responses.map((r) => r.status)).toEqual(Array(WRITERS).fill(200));
    const versions = responses.map((r) => r.body.override.version as number).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 2));
    const last = responses.find((r) => r.body.override.version === WRITERS + 1)!;
    const final = await api().get(`/api/admin/feature-flags/${key}?env=staging`).set(ADMIN).expect(200);
    expect(final.body.override).toMatchObject({ percentage: last.body.override.percentage, version: WRITERS + 1 });
    const events = (await overrideEvents(key)).slice(1);
    expect(events).toHaveLength(WRITERS);
    expect(events.map((e) => (e.after as { version: number }).version).sort((x, y) => x - y)).toEqual(versions);
    report.push(
      `${backend.name}, no version: ${WRITERS} writers, ${WRITERS} applied, ${events.length} events, ${elapsed} ms`,
    );
  });

  it(`${WRITERS} concurrent creates of one override: exactly one creates it, the others apply on top`, async () => {
    const key = flagKey('created-at-once');
    await seedFlag(app, key);
    const responses = await Promise.all(
      Array.from({ length: WRITERS }, (_, writer) =>
        api()
          .patch(`/api/admin/feature-flags/${key}`)
          .set(ADMIN)
          .send({ environment: 'development', percentage: writer }),
      ),
    );
    expect(responses.filter((r) => r.status !== 200).map((r) => [r.status, r.body])).toEqual([]);
    const events = (await api().get(`/api/admin/events?flag=${key}&environment=development&limit=1000`).set(ADMIN)).body
      .items as AuditEvent[];
    expect(events.filter((e) => e.type === 'override-created')).toHaveLength(1);
    expect(events).toHaveLength(WRITERS);
  });
}

describe('admin API under concurrent writers (sqlite)', () => describeConcurrency(sqliteBackend()));
describeWithService('postgres', 'admin API under concurrent writers (postgres)', () =>
  describeConcurrency(postgresBackend()),
);

afterAll(() => {
  if (report.length > 0) console.log(`Concurrency:\n  ${report.join('\n  ')}`);
});
