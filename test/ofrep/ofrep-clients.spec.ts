/**
 * OFREP driven by the official OpenFeature clients over real HTTP: `@openfeature/ofrep-provider` through
 * `@openfeature/server-sdk` (dynamic context: one request per evaluation), and
 * `@openfeature/ofrep-web-provider` through `@openfeature/web-sdk` (static context: the bulk route, polled
 * with If-None-Match), which runs in Node without a browser. Every answer they receive is checked against
 * the OFREP 0.3.0 schemas on the way in.
 */
import { INestApplication } from '@nestjs/common';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import { OpenFeature as ServerOpenFeature, ProviderStatus as ServerStatus } from '@openfeature/server-sdk';
import { OpenFeature as WebOpenFeature, ProviderEvents as WebEvents } from '@openfeature/web-sdk';
import { FeatureFlagStorage } from '../../lib';
import { ADAPTERS, StartApp, closeApps } from '../support/http';
import { assertOfrepResponse } from './ofrep-schemas';
import { createClientKey, revokeClientKey, startOfrepApp } from './ofrep-app';

/** A fetch that checks every OFREP answer against the specification, and counts them by status. */
function checkingFetch(seen: { path: string; status: number }[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const operation = url.pathname.endsWith('/ofrep/v1/evaluate/flags') ? 'evaluateFlagsBulk' : 'evaluateFlag';
    const text = await response.clone().text();
    const headers = Object.fromEntries(response.headers.entries());
    assertOfrepResponse(operation, response.status, text ? JSON.parse(text) : undefined, headers, text);
    seen.push({ path: url.pathname, status: response.status });
    return response;
  };
}

describe.each(ADAPTERS)('official OFREP clients against the OFREP endpoints (%s)', (_adapter, start: StartApp) => {
  let app: INestApplication;
  let baseUrl: string;
  let seen: { path: string; status: number }[];
  let domain = 0;

  beforeEach(async () => {
    app = await startOfrepApp(start);
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    baseUrl = `http://127.0.0.1:${address.port}`;
    seen = [];
  });

  afterEach(async () => {
    await ServerOpenFeature.clearProviders();
    await WebOpenFeature.clearProviders();
    await closeApps();
  });

  it("@openfeature/ofrep-provider (server-sdk): every type, targeting, errors, in the key's environment", async () => {
    const { secret } = await createClientKey(app, 'staging');
    const name = `ofrep-server-${++domain}`;
    await ServerOpenFeature.setProviderAndWait(
      name,
      new OFREPProvider({ baseUrl, headers: [['X-API-Key', secret]], fetchImplementation: checkingFetch(seen) }),
    );
    const client = ServerOpenFeature.getClient(name);
    expect(client.providerStatus).toBe(ServerStatus.READY);

    expect(await client.getBooleanDetails('new-checkout', false)).toMatchObject({
      value: true,
      reason: 'STATIC',
      flagMetadata: { environment: 'staging', source: 'staging' },
    });
    expect(await client.getStringValue('checkout.banner', 'none')).toBe('Hello from staging');
    expect(await client.getNumberDetails('discount', 0, { country: 'CA' })).toMatchObject({
      value: 10,
      reason: 'TARGETING_MATCH',
    });
    expect(await client.getNumberDetails('discount', 0, { country: 'FR' })).toMatchObject({
      value: 5,
      reason: 'UNKNOWN',
      flagMetadata: { reason: 'DEFAULT' },
    });
    const theme = await client.getObjectDetails('theme', { color: 'none' }, { targetingKey: 'user-7' });
    expect(theme).toMatchObject({ reason: 'SPLIT', value: { color: theme.variant } });
    // The context cannot move the evaluation to another environment.
    expect(await client.getBooleanValue('new-checkout', true, { environment: 'production' })).toBe(true);

    expect(await client.getBooleanDetails('nope', true)).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
    expect(await client.getBooleanDetails('rollout', false)).toMatchObject({
      value: false,
      reason: 'ERROR',
      errorCode: 'TARGETING_KEY_MISSING',
    });
    expect((await client.getBooleanDetails('rollout', false, { targetingKey: 'user-7' })).errorCode).toBeUndefined();
    // A string read as a boolean: the client sees the type mismatch itself (OFREP has no types).
    expect(await client.getBooleanDetails('checkout.banner', false)).toMatchObject({
      value: false,
      errorCode: 'TYPE_MISMATCH',
    });

    expect(seen.map((s) => s.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 400, 404]);
  });

  it('@openfeature/ofrep-provider: a revoked or unknown key gets the default value and an error', async () => {
    const { secret, id } = await createClientKey(app, 'production');
    const name = `ofrep-revoked-${++domain}`;
    await ServerOpenFeature.setProviderAndWait(
      name,
      new OFREPProvider({
        baseUrl,
        headers: [['Authorization', `Bearer ${secret}`]],
        fetchImplementation: checkingFetch(seen),
      }),
    );
    const client = ServerOpenFeature.getClient(name);
    expect(await client.getBooleanDetails('new-checkout', true)).toMatchObject({
      value: false,
      reason: 'DISABLED',
      flagMetadata: { environment: 'production' },
    });
    await revokeClientKey(app, id);
    const refused = await client.getBooleanDetails('new-checkout', true);
    expect(refused).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'GENERAL' });
    const stranger = `ofrep-stranger-${++domain}`;
    await ServerOpenFeature.setProviderAndWait(
      stranger,
      new OFREPProvider({ baseUrl, headers: [['X-API-Key', 'ffc_guess']], fetchImplementation: checkingFetch(seen) }),
    );
    expect((await ServerOpenFeature.getClient(stranger).getBooleanDetails('new-checkout', true)).errorCode).toBe(
      'GENERAL',
    );
    expect(seen.map((s) => s.status)).toEqual([200, 401, 401]);
  });

  it('@openfeature/ofrep-web-provider (web-sdk, no browser): bulk evaluation, ETag polling, configuration changes', async () => {
    const { secret } = await createClientKey(app, 'staging');
    const name = `ofrep-web-${++domain}`;
    const provider = new OFREPWebProvider({
      baseUrl,
      headers: [['X-API-Key', secret]],
      pollInterval: 100,
      cacheMode: 'disabled',
      fetchImplementation: checkingFetch(seen),
    });
    await WebOpenFeature.setContext(name, { targetingKey: 'user-7', country: 'CA' });
    await WebOpenFeature.setProviderAndWait(name, provider);
    const client = WebOpenFeature.getClient(name);
    expect(client.getBooleanDetails('new-checkout', false)).toMatchObject({
      value: true,
      reason: 'STATIC',
      flagMetadata: { environment: 'staging' },
    });
    expect(client.getStringValue('checkout.banner', 'none')).toBe('Hello from staging');
    expect(client.getNumberDetails('discount', 0)).toMatchObject({ value: 10, reason: 'TARGETING_MATCH' });
    expect(client.getBooleanDetails('nope', true)).toMatchObject({ value: true, errorCode: 'FLAG_NOT_FOUND' });
    // Unchanged configuration: the polls are answered 304.
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(seen.filter((s) => s.status === 304).length).toBeGreaterThan(0);

    const changed = new Promise<string[] | undefined>((resolve) =>
      client.addHandler(WebEvents.ConfigurationChanged, (d) => resolve(d?.flagsChanged)),
    );
    await app.get<FeatureFlagStorage>(FeatureFlagStorage).updateFlag({ key: 'discount', rules: [] });
    expect(await changed).toContain('discount');
    expect(client.getNumberDetails('discount', 0)).toMatchObject({ value: 5 });
    expect(seen.every((s) => s.path === '/ofrep/v1/evaluate/flags')).toBe(true);
    expect(seen[0].status).toBe(200);
  });
});
