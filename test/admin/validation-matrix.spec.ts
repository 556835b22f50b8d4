import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ADAPTERS, ADMIN, closeApps, http, seedFlag, sqliteBackend, startAdminApp } from './support/admin-app';

/**
 * The validation matrix: bad input of every kind gets a 4xx JSON error naming the field (never a 500),
 * and changes nothing. Run on Express and Fastify, whose body parsers differ.
 */

interface Case {
  name: string;
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  /** A JSON body, or a raw string sent as application/json. */
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  /** The field the error names; null for errors raised before the admin routes (the host's body parser). */
  field: string | null;
}

const F = '/api/admin/feature-flags/val.flag';
const rule = (extra: Record<string, unknown> = {}, condition: Record<string, unknown> = {}) => ({
  priority: 0,
  serveEnabled: true,
  conditions: [{ attribute: 'country', operator: 'in', value: ['SE'], ...condition }],
  ...extra,
});

const CASES: Case[] = [
  // Unknown fields, at any depth
  {
    name: 'unknown field',
    method: 'patch',
    path: F,
    body: { enabled: true, environment: 'staging', colour: 'red' },
    status: 400,
    field: 'colour',
  },
  {
    name: 'unknown field in a rule',
    method: 'patch',
    path: F,
    body: { environment: 'staging', rules: [rule({ bogus: 1 })] },
    status: 400,
    field: 'rules[0].bogus',
  },
  {
    name: 'unknown field in a condition',
    method: 'patch',
    path: F,
    body: { environment: 'staging', rules: [rule({}, { extra: true })] },
    status: 400,
    field: 'rules[0].conditions[0].extra',
  },
  {
    name: 'unknown field in a variant',
    method: 'patch',
    path: F,
    body: { environment: 'staging', variants: [{ key: 'a', value: true, weight: 1, x: 1 }] },
    status: 400,
    field: 'variants[0].x',
  },
  {
    name: 'unknown field on promote',
    method: 'post',
    path: `${F}/promote`,
    body: { from: 'staging', to: 'development', force: true },
    status: 400,
    field: 'force',
  },
  {
    name: 'unknown field on an environment',
    method: 'post',
    path: '/api/admin/environments',
    body: { slug: 'x-env', name: 'X', colour: 'red' },
    status: 400,
    field: 'colour',
  },
  {
    name: 'unknown field on a token',
    method: 'post',
    path: '/api/admin/api-tokens',
    body: { name: 't', type: 'admin', environments: ['*'], scopes: ['all'] },
    status: 400,
    field: 'scopes',
  },
  // Wrong types
  {
    name: 'enabled as a string',
    method: 'patch',
    path: F,
    body: { enabled: 'yes', environment: 'staging' },
    status: 400,
    field: 'enabled',
  },
  {
    name: 'percentage as a string',
    method: 'patch',
    path: F,
    body: { percentage: '50', environment: 'staging' },
    status: 400,
    field: 'percentage',
  },
  {
    name: 'environment as a number',
    method: 'patch',
    path: F,
    body: { enabled: true, environment: 42 },
    status: 400,
    field: 'environment',
  },
  {
    name: 'rules not an array',
    method: 'patch',
    path: F,
    body: { rules: 'all', environment: 'staging' },
    status: 400,
    field: 'rules',
  },
  {
    name: 'rule priority not an integer',
    method: 'patch',
    path: F,
    body: { environment: 'staging', rules: [rule({ priority: 1.5 })] },
    status: 400,
    field: 'rules[0].priority',
  },
  {
    name: 'rule without serveEnabled',
    method: 'patch',
    path: F,
    body: { environment: 'staging', rules: [{ priority: 0, conditions: [] }] },
    status: 400,
    field: 'rules[0].serveEnabled',
  },
  {
    name: 'condition without attribute',
    method: 'patch',
    path: F,
    body: { environment: 'staging', rules: [rule({}, { attribute: undefined })] },
    status: 400,
    field: 'rules[0].conditions[0].attribute',
  },
  {
    name: 'value of another type than the flag',
    method: 'patch',
    path: F,
    body: { value: 'on', environment: 'staging' },
    status: 400,
    field: 'value',
  },
  {
    name: 'reason as a number',
    method: 'patch',
    path: F,
    body: { enabled: true, environment: 'staging', reason: 7 },
    status: 400,
    field: 'reason',
  },
  {
    name: 'version as a string',
    method: 'patch',
    path: F,
    body: { enabled: true, environment: 'staging', version: 'latest' },
    status: 400,
    field: 'version',
  },
  {
    name: 'confirm as a string',
    method: 'patch',
    path: F,
    body: { enabled: true, environment: 'staging', confirm: 'yes' },
    status: 400,
    field: 'confirm',
  },
  {
    name: 'dryRun as a string',
    method: 'post',
    path: `${F}/promote`,
    body: { from: 'staging', to: 'development', dryRun: 'true' },
    status: 400,
    field: 'dryRun',
  },
  {
    name: 'metadata as an array',
    method: 'post',
    path: '/api/admin/feature-flags',
    body: { key: 'val.meta', metadata: [] },
    status: 400,
    field: 'metadata',
  },
  {
    name: 'tags of numbers',
    method: 'post',
    path: '/api/admin/feature-flags',
    body: { key: 'val.tags', tags: [1, 2] },
    status: 400,
    field: 'tags',
  },
  {
    name: 'settings as an array',
    method: 'post',
    path: '/api/admin/environments',
    body: { slug: 'x-env', name: 'X', settings: [] },
    status: 400,
    field: 'settings',
  },
  {
    name: 'a known setting of the wrong type',
    method: 'post',
    path: '/api/admin/environments',
    body: { slug: 'x-env', name: 'X', settings: { protected: 'yes' } },
    status: 400,
    field: 'settings.protected',
  },
  {
    name: 'defaultValue of another type than the flag',
    method: 'post',
    path: '/api/admin/feature-flags',
    body: { key: 'val.typed', type: 'number', defaultValue: 'ten' },
    status: 400,
    field: 'defaultValue',
  },
  { name: 'base flag enabled null', method: 'patch', path: F, body: { enabled: null }, status: 400, field: 'enabled' },
  { name: 'body that names nothing', method: 'patch', path: F, body: {}, status: 400, field: 'body' },
  // Out of range
  {
    name: 'percentage above 100',
    method: 'patch',
    path: F,
    body: { percentage: 150, environment: 'staging' },
    status: 400,
    field: 'percentage',
  },
  {
    name: 'negative percentage',
    method: 'patch',
    path: F,
    body: { percentage: -1, environment: 'staging' },
    status: 400,
    field: 'percentage',
  },
  {
    name: 'rule rollout above 100',
    method: 'patch',
    path: F,
    body: { environment: 'staging', rules: [rule({ rolloutPercentage: 101 })] },
    status: 400,
    field: 'rules[0].rolloutPercentage',
  },
  {
    name: 'negative variant weight',
    method: 'patch',
    path: F,
    body: { environment: 'staging', variants: [{ key: 'a', value: true, weight: -1 }] },
    status: 400,
    field: 'variants[0].weight',
  },
  {
    name: 'flag name over 255 characters',
    method: 'post',
    path: '/api/admin/feature-flags',
    body: { key: 'val.long', name: 'n'.repeat(256) },
    status: 400,
    field: 'name',
  },
  {
    name: 'too many conditions',
    method: 'patch',
    path: F,
    body: {
      environment: 'staging',
      rules: [
        { priority: 0, serveEnabled: true, conditions: Array(51).fill({ attribute: 'a', operator: 'eq', value: 1 }) },
      ],
    },
    status: 400,
    field: 'rules[0].conditions',
  },
  { name: 'events limit above 1000', method: 'get', path: '/api/admin/events?limit=5000', status: 400, field: 'limit' },
  { name: 'flags limit 0', method: 'get', path: '/api/admin/feature-flags?limit=0', status: 400, field: 'limit' },
  { name: 'negative offset', method: 'get', path: '/api/admin/feature-flags?offset=-1', status: 400, field: 'offset' },
  {
    name: 'approval version 0',
    method: 'post',
    path: '/api/admin/change-requests/abc/approve',
    body: { version: 0 },
    status: 400,
    field: 'version',
  },
  {
    name: 'token expiring in the past',
    method: 'post',
    path: '/api/admin/api-tokens',
    body: { name: 't', type: 'admin', environments: ['*'], expiresAt: '2000-01-01T00:00:00Z' },
    status: 400,
    field: 'expiresAt',
  },
  // Malformed keys, slugs, ids and headers
  {
    name: 'malformed flag key in the path',
    method: 'get',
    path: '/api/admin/feature-flags/has%20space',
    status: 400,
    field: 'key',
  },
  {
    name: 'malformed flag key on create',
    method: 'post',
    path: '/api/admin/feature-flags',
    body: { key: 'has space' },
    status: 400,
    field: 'key',
  },
  {
    name: 'malformed environment slug in the body',
    method: 'patch',
    path: F,
    body: { enabled: true, environment: 'Not A Slug' },
    status: 400,
    field: 'environment',
  },
  {
    name: 'malformed slug in the path',
    method: 'get',
    path: '/api/admin/environments/UPPER',
    status: 400,
    field: 'slug',
  },
  {
    name: 'malformed slug on create',
    method: 'post',
    path: '/api/admin/environments',
    body: { slug: 'Bad Slug', name: 'X' },
    status: 400,
    field: 'slug',
  },
  {
    name: 'malformed parent slug',
    method: 'post',
    path: '/api/admin/environments',
    body: { slug: 'x-env', name: 'X', parent: 'Bad Parent' },
    status: 400,
    field: 'parent',
  },
  {
    name: 'malformed promotion target',
    method: 'post',
    path: `${F}/promote`,
    body: { from: 'staging', to: 'PROD!' },
    status: 400,
    field: 'to',
  },
  {
    name: 'malformed token environment',
    method: 'post',
    path: '/api/admin/api-tokens',
    body: { name: 't', type: 'admin', environments: ['Prod'] },
    status: 400,
    field: 'environments',
  },
  { name: 'malformed id', method: 'get', path: '/api/admin/change-requests/not%20an%20id!', status: 400, field: 'id' },
  {
    name: 'malformed If-Match',
    method: 'patch',
    path: F,
    body: { enabled: true, environment: 'staging' },
    headers: { 'If-Match': 'latest' },
    status: 400,
    field: 'If-Match',
  },
  {
    name: 'malformed event type filter',
    method: 'get',
    path: '/api/admin/events?type=Not%20A%20Type',
    status: 400,
    field: 'type',
  },
  {
    name: 'malformed date filter',
    method: 'get',
    path: '/api/admin/events?since=yesterday',
    status: 400,
    field: 'since',
  },
  // Unknown values
  {
    name: 'unknown operator',
    method: 'patch',
    path: F,
    body: { environment: 'staging', rules: [rule({}, { operator: 'like' })] },
    status: 400,
    field: 'rules[0].conditions[0].operator',
  },
  {
    name: 'invalid regular expression',
    method: 'patch',
    path: F,
    body: { environment: 'staging', rules: [rule({}, { operator: 'matches', value: '([a-' })] },
    status: 400,
    field: 'rules[0].conditions[0].value',
  },
  {
    name: 'pattern RE2 cannot run (backreference)',
    method: 'patch',
    path: F,
    body: { environment: 'staging', rules: [rule({}, { operator: 'matches', value: '(a)\\1' })] },
    status: 400,
    field: 'rules[0].conditions[0].value',
  },
  {
    name: 'unknown flag type',
    method: 'post',
    path: '/api/admin/feature-flags',
    body: { key: 'val.type', type: 'date' },
    status: 400,
    field: 'type',
  },
  {
    name: 'unknown environment type',
    method: 'post',
    path: '/api/admin/environments',
    body: { slug: 'x-env', name: 'X', type: 'staging' },
    status: 400,
    field: 'type',
  },
  {
    name: 'unknown token type',
    method: 'post',
    path: '/api/admin/api-tokens',
    body: { name: 't', type: 'root', environments: ['*'] },
    status: 400,
    field: 'type',
  },
  {
    name: 'unknown flag status filter',
    method: 'get',
    path: '/api/admin/feature-flags?status=deleted',
    status: 400,
    field: 'status',
  },
  {
    name: 'unknown flag',
    method: 'patch',
    path: '/api/admin/feature-flags/val.missing',
    body: { enabled: true, environment: 'staging' },
    status: 404,
    field: null,
  },
  {
    name: 'unknown environment',
    method: 'patch',
    path: F,
    body: { enabled: true, environment: 'mars' },
    status: 404,
    field: null,
  },
  {
    name: 'unknown promotion source',
    method: 'post',
    path: `${F}/promote`,
    body: { from: 'mars', to: 'staging' },
    status: 404,
    field: null,
  },
  {
    name: 'unknown change request',
    method: 'post',
    path: '/api/admin/change-requests/abc/approve',
    body: {},
    status: 404,
    field: null,
  },
  // Bodies that are not JSON objects, or too large
  { name: 'a JSON array body', method: 'patch', path: F, raw: '[{"enabled":true}]', status: 400, field: 'body' },
  { name: 'malformed JSON', method: 'patch', path: F, raw: '{"enabled": tru', status: 400, field: null },
  {
    name: 'a body over the admin limit (70 KB)',
    method: 'patch',
    path: F,
    body: { environment: 'staging', reason: 'r'.repeat(70_000) },
    status: 413,
    field: 'body',
  },
  {
    name: "a body over the host parser's limit (2 MB)",
    method: 'patch',
    path: F,
    body: { environment: 'staging', reason: 'r'.repeat(2_000_000) },
    status: 413,
    field: null,
  },
];

describe.each(ADAPTERS)('admin API validation matrix (%s)', (_adapter, start) => {
  const backend = sqliteBackend();
  let app: INestApplication;

  beforeAll(async () => {
    app = await startAdminApp({ backend, start });
    await seedFlag(app, 'val.flag', { staging: { enabled: true, percentage: 10 } });
  });

  afterAll(async () => {
    await closeApps();
    await backend.dispose();
  });

  it(`has ${CASES.length} cases, each with a distinct name`, () => {
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.name, c.status, c.field, c] as const))(
    '%s → %i %s',
    async (_name, _status, _field, c) => {
      const expected = c;
      const before = await http(app).get('/api/admin/feature-flags/val.flag?env=staging').set(ADMIN).expect(200);
      let req: request.Test = http(app)[c.method](c.path).set(ADMIN);
      if (c.headers) req = req.set(c.headers);
      if (c.raw !== undefined) req = req.set('Content-Type', 'application/json').send(c.raw);
      else if (c.body !== undefined) req = req.send(c.body as object);
      const res = await req;
      expect(res.status).toBe(expected.status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ statusCode: expected.status });
      expect(typeof res.body.message).toBe('string');
      if (expected.field !== null) {
        expect(res.body.field).toBe(expected.field);
        expect(res.body.message).toContain(expected.field);
      }
      // Nothing changed.
      const after = await http(app).get('/api/admin/feature-flags/val.flag?env=staging').set(ADMIN).expect(200);
      expect(after.body).toEqual(before.body);
    },
  );
});

export const VALIDATION_MATRIX_SIZE = CASES.length;
