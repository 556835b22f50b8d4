import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { FeatureFlagAdminStorage, hashApiTokenSecret } from '../../lib';
import {
  ADMIN,
  bearer,
  closeApps,
  createToken,
  flagKey,
  http,
  seedFlag,
  sqliteBackend,
  startAdminApp,
  storageOf,
} from './support/admin-app';

/**
 * The auth matrix: every token type × environment scope × action, each with the status it must get.
 * Like Unleash, a token bound to environments can neither read nor change another environment (403 naming
 * it); a read-only token changes nothing (403); what spans every environment needs `*`.
 */

type Principal = 'admin *' | 'admin [staging]' | 'admin [production]' | 'read-only *' | 'read-only [staging]';
const PRINCIPALS: Principal[] = [
  'admin *',
  'admin [staging]',
  'admin [production]',
  'read-only *',
  'read-only [staging]',
];

/** What a refusal says: the environment it names, or that the token is read-only. */
type Expected = 200 | 201 | 204 | ['403', 'ENVIRONMENT_FORBIDDEN', string] | ['403', 'READ_ONLY_TOKEN'];
const env = (environment: string): Expected => ['403', 'ENVIRONMENT_FORBIDDEN', environment];
const ro: Expected = ['403', 'READ_ONLY_TOKEN'];
const all: Expected = ['403', 'ENVIRONMENT_FORBIDDEN', '*'];

interface Fixture {
  key: string;
  changeRequestId: string;
}

interface Action {
  name: string;
  /** Whether the action writes (a refused write must leave no audit event). */
  writes: boolean;
  run: (api: () => request.Agent, auth: Record<string, string>, f: Fixture) => request.Test;
  expected: Record<Principal, Expected>;
}

const ACTIONS: Action[] = [
  {
    name: 'read a flag in staging (GET ?env=staging)',
    writes: false,
    run: (api, auth, f) => api().get(`/api/admin/feature-flags/${f.key}?env=staging`).set(auth),
    expected: {
      'admin *': 200,
      'admin [staging]': 200,
      'admin [production]': env('staging'),
      'read-only *': 200,
      'read-only [staging]': 200,
    },
  },
  {
    name: 'read a flag in production (GET ?env=production)',
    writes: false,
    run: (api, auth, f) => api().get(`/api/admin/feature-flags/${f.key}?env=production`).set(auth),
    expected: {
      'admin *': 200,
      'admin [staging]': env('production'),
      'admin [production]': 200,
      'read-only *': 200,
      'read-only [staging]': env('production'),
    },
  },
  {
    name: 'read a base flag with the overrides it may see (GET)',
    writes: false,
    run: (api, auth, f) => api().get(`/api/admin/feature-flags/${f.key}`).set(auth),
    expected: {
      'admin *': 200,
      'admin [staging]': 200,
      'admin [production]': 200,
      'read-only *': 200,
      'read-only [staging]': 200,
    },
  },
  {
    name: 'change the staging override (PATCH)',
    writes: true,
    run: (api, auth, f) =>
      api().patch(`/api/admin/feature-flags/${f.key}`).set(auth).send({ percentage: 42, environment: 'staging' }),
    expected: {
      'admin *': 200,
      'admin [staging]': 200,
      'admin [production]': env('staging'),
      'read-only *': ro,
      'read-only [staging]': ro,
    },
  },
  {
    name: 'kill switch in production (PATCH enabled false, confirm)',
    writes: true,
    run: (api, auth, f) =>
      api()
        .patch(`/api/admin/feature-flags/${f.key}`)
        .set(auth)
        .send({ enabled: false, environment: 'production', confirm: true }),
    expected: {
      'admin *': 200,
      'admin [staging]': env('production'),
      'admin [production]': 200,
      'read-only *': ro,
      'read-only [staging]': ro,
    },
  },
  {
    name: 'change the base flag (PATCH without environment)',
    writes: true,
    run: (api, auth, f) => api().patch(`/api/admin/feature-flags/${f.key}`).set(auth).send({ description: 'Changed' }),
    expected: {
      'admin *': 200,
      'admin [staging]': all,
      'admin [production]': all,
      'read-only *': ro,
      'read-only [staging]': ro,
    },
  },
  {
    name: 'remove the staging override (DELETE)',
    writes: true,
    run: (api, auth, f) => api().delete(`/api/admin/feature-flags/${f.key}/environments/staging`).set(auth),
    expected: {
      'admin *': 200,
      'admin [staging]': 200,
      'admin [production]': env('staging'),
      'read-only *': ro,
      'read-only [staging]': ro,
    },
  },
  {
    name: 'promote staging → development (POST promote)',
    writes: true,
    run: (api, auth, f) =>
      api().post(`/api/admin/feature-flags/${f.key}/promote`).set(auth).send({ from: 'staging', to: 'development' }),
    expected: {
      'admin *': 200,
      'admin [staging]': env('development'),
      'admin [production]': env('staging'),
      'read-only *': ro,
      'read-only [staging]': ro,
    },
  },
  {
    name: 'dry-run a promotion staging → production (POST promote, dryRun)',
    writes: false,
    run: (api, auth, f) =>
      api()
        .post(`/api/admin/feature-flags/${f.key}/promote`)
        .set(auth)
        .send({ from: 'staging', to: 'production', dryRun: true }),
    expected: {
      'admin *': 200,
      'admin [staging]': env('production'),
      'admin [production]': env('staging'),
      'read-only *': 200,
      'read-only [staging]': env('production'),
    },
  },
  {
    name: 'read the audit log of production (GET events?environment=production)',
    writes: false,
    run: (api, auth) => api().get('/api/admin/events?environment=production&limit=5').set(auth),
    expected: {
      'admin *': 200,
      'admin [staging]': env('production'),
      'admin [production]': 200,
      'read-only *': 200,
      'read-only [staging]': env('production'),
    },
  },
  {
    name: 'list change requests of production',
    writes: false,
    run: (api, auth) => api().get('/api/admin/change-requests?environment=production').set(auth),
    expected: {
      'admin *': 200,
      'admin [staging]': env('production'),
      'admin [production]': 200,
      'read-only *': 200,
      'read-only [staging]': env('production'),
    },
  },
  {
    name: 'approve a production change request',
    writes: true,
    run: (api, auth, f) => api().post(`/api/admin/change-requests/${f.changeRequestId}/approve`).set(auth).send({}),
    expected: {
      'admin *': 200,
      'admin [staging]': env('production'),
      'admin [production]': 200,
      'read-only *': ro,
      'read-only [staging]': ro,
    },
  },
  {
    name: 'read an environment (GET environments/production)',
    writes: false,
    run: (api, auth) => api().get('/api/admin/environments/production').set(auth),
    expected: {
      'admin *': 200,
      'admin [staging]': env('production'),
      'admin [production]': 200,
      'read-only *': 200,
      'read-only [staging]': env('production'),
    },
  },
  {
    name: 'create an environment (POST environments)',
    writes: true,
    run: (api, auth, f) =>
      api()
        .post('/api/admin/environments')
        .set(auth)
        .send({ slug: f.key.toLowerCase().replace(/[^a-z0-9-]/g, '-'), name: 'New', parent: 'staging' }),
    expected: {
      'admin *': 201,
      'admin [staging]': all,
      'admin [production]': all,
      'read-only *': ro,
      'read-only [staging]': ro,
    },
  },
  {
    name: 'create an API token (POST api-tokens)',
    writes: true,
    run: (api, auth, f) =>
      api()
        .post('/api/admin/api-tokens')
        .set(auth)
        .send({ name: f.key, type: 'admin', environments: ['*'] }),
    expected: {
      'admin *': 201,
      'admin [staging]': all,
      'admin [production]': all,
      'read-only *': ro,
      'read-only [staging]': ro,
    },
  },
];

const CASES = ACTIONS.flatMap((action) =>
  PRINCIPALS.map((principal) => [action.name, principal, action.expected[principal], action] as const),
);

describe('admin API auth matrix (sqlite)', () => {
  const backend = sqliteBackend();
  let app: INestApplication;
  /** A named token for changes that need approval (the bootstrap token may not request them). */
  let REQUESTER: Record<string, string>;
  const secrets = {} as Record<Principal, string>;
  const api = () => http(app);

  beforeAll(async () => {
    // 15 refused credentials from one client below: over the default throttle (auth-throttle.spec.ts tests it).
    app = await startAdminApp({ backend, admin: { authThrottle: { limit: 100, ttl: 60_000 } } });
    REQUESTER = bearer((await createToken(app, 'admin', ['*'], 'requester')).secret);
    secrets['admin *'] = (await createToken(app, 'admin', ['*'])).secret;
    secrets['admin [staging]'] = (await createToken(app, 'admin', ['staging'])).secret;
    secrets['admin [production]'] = (await createToken(app, 'admin', ['production'])).secret;
    secrets['read-only *'] = (await createToken(app, 'read-only', ['*'])).secret;
    secrets['read-only [staging]'] = (await createToken(app, 'read-only', ['staging'])).secret;
  });

  afterAll(async () => {
    await closeApps();
    await backend.dispose();
  });

  /** A flag with overrides in staging and production, and a pending production change request by the bootstrap token. */
  async function fixture(): Promise<Fixture> {
    const key = flagKey('matrix');
    await seedFlag(app, key, {
      production: { enabled: true, percentage: 10 },
      staging: { enabled: true, percentage: 100 },
    });
    const pending = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(REQUESTER)
      .send({ percentage: 20, environment: 'production', confirm: true })
      .expect(202);
    return { key, changeRequestId: pending.body.changeRequest.id };
  }

  it(`covers ${ACTIONS.length} actions × ${PRINCIPALS.length} principals = ${CASES.length} cases`, () => {
    expect(CASES).toHaveLength(ACTIONS.length * PRINCIPALS.length);
  });

  it.each(CASES)('%s — %s → %j', async (_name, principal, expected, action) => {
    const f = await fixture();
    const eventsBefore = (await api().get('/api/admin/events?limit=1').set(ADMIN)).body.items[0]?.id as number;
    const res = await action.run(api, bearer(secrets[principal]), f);
    if (typeof expected === 'number') {
      expect([res.status, res.body?.code]).toEqual([expected, undefined]);
      return;
    }
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden', code: expected[1] });
    if (expected[1] === 'ENVIRONMENT_FORBIDDEN') {
      expect(res.body.environment).toBe(expected[2]);
      if (expected[2] !== '*') expect(res.body.message).toContain(`"${expected[2]}"`);
    }
    if (action.writes) {
      // A refused write changes nothing: no audit event after the fixture's.
      const latest = (await api().get('/api/admin/events?limit=1').set(ADMIN)).body.items[0].id as number;
      expect(latest).toBe(eventsBefore);
    }
  });

  describe('without valid credentials every route answers 401', () => {
    const revoked = 'ffa_revoked-token-of-the-auth-matrix-000000000000';
    const expired = 'ffa_expired-token-of-the-auth-matrix-000000000000';

    beforeAll(async () => {
      const admin = storageOf(app) as unknown as FeatureFlagAdminStorage;
      const token = await admin.createApiToken({
        name: 'revoked',
        type: 'admin',
        environments: ['*'],
        secretHash: hashApiTokenSecret(revoked),
        secretHint: revoked.slice(0, 8),
      });
      await admin.revokeApiToken(token.id);
      await admin.createApiToken({
        name: 'expired',
        type: 'admin',
        environments: ['*'],
        secretHash: hashApiTokenSecret(expired),
        secretHint: expired.slice(0, 8),
        expiresAt: new Date(Date.now() - 1),
      });
    });

    const CREDENTIALS: [string, Record<string, string>, RegExp][] = [
      ['no Authorization header', {}, /Authorization: Bearer/],
      ['a Basic header', { Authorization: 'Basic YWRtaW46YWRtaW4=' }, /Authorization: Bearer/],
      ['an unknown token', bearer('ffa_unknown-token-000000000000000000000000000000'), /not valid/],
      ['a revoked token', bearer(revoked), /revoked/],
      ['an expired token', bearer(expired), /expired/],
    ];
    const ROUTES: [string, (api: () => request.Agent) => request.Test][] = [
      ['GET /feature-flags', (a) => a().get('/api/admin/feature-flags')],
      [
        'PATCH /feature-flags/:key',
        (a) => a().patch('/api/admin/feature-flags/anything').send({ enabled: true, environment: 'staging' }),
      ],
      [
        'POST /api-tokens',
        (a) =>
          a()
            .post('/api/admin/api-tokens')
            .send({ name: 'x', type: 'admin', environments: ['*'] }),
      ],
    ];
    const UNAUTHENTICATED = CREDENTIALS.flatMap(([name, headers, message]) =>
      ROUTES.map(([route, run]) => [name, route, headers, message, run] as const),
    );

    it.each(UNAUTHENTICATED)('%s on %s → 401', async (_name, _route, headers, message, run) => {
      const res = await run(api).set(headers).expect(401);
      expect(res.body).toMatchObject({
        statusCode: 401,
        error: 'Unauthorized',
        code: 'UNAUTHORIZED',
        message: expect.stringMatching(message),
      });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="feature-flags-admin"');
    });
  });
});

export const AUTH_MATRIX_SIZE = {
  actions: ACTIONS.length,
  principals: PRINCIPALS.length,
  cases: CASES.length,
  unauthenticated: 5 * 3,
};
