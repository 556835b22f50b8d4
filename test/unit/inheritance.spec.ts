import { FlagSnapshot, NotFoundError } from '../../lib/core';
import { cond, env, flag, override, rule, segment, snapshot, standardEnvironments, userKeys } from './fixtures';

const ENVS = ['production', 'staging', 'development'] as const;

function enabledIn(s: FlagSnapshot, key: string, ctx = { targetingKey: 'user-1' }): Record<string, boolean> {
  return Object.fromEntries(ENVS.map((e) => [e, s.evaluate(key, e, ctx, false).enabled]));
}

describe('environment chain', () => {
  it('walks production ← staging ← development nearest first', () => {
    const s = snapshot({ environments: standardEnvironments() });
    expect(s.getEnvironmentChain('development').map((e) => e.slug)).toEqual(['development', 'staging', 'production']);
    expect(s.getEnvironmentChain('staging').map((e) => e.slug)).toEqual(['staging', 'production']);
    expect(s.getEnvironmentChain('production').map((e) => e.slug)).toEqual(['production']);
  });

  it('throws NotFoundError for an unknown slug', () => {
    const s = snapshot({ environments: standardEnvironments() });
    expect(() => s.getEnvironmentChain('qa')).toThrow(NotFoundError);
    expect(() => s.getEnvironmentChain('qa')).toThrow('No environment "qa" exists.');
  });

  it('stops at a parent that does not exist', () => {
    const s = snapshot({ environments: [env('orphan', 'gone')] });
    expect(s.getEnvironmentChain('orphan').map((e) => e.slug)).toEqual(['orphan']);
  });
});

describe('field-by-field resolution', () => {
  function seeded(): FlagSnapshot {
    return snapshot({
      environments: standardEnvironments(),
      flags: [flag('banner', { type: 'string', defaultEnabled: false, defaultValue: 'base-text' })],
      overrides: [
        override('production', 'banner', { enabled: true, percentage: 10, value: 'prod-text' }),
        override('staging', 'banner', { percentage: 100 }),
      ],
    });
  }

  it('takes each field from the nearest environment that sets it', () => {
    const s = seeded();
    const r = s.resolve(s.getFlag('banner')!, 'development');
    expect(r).toMatchObject({
      environment: 'development',
      enabled: true,
      percentage: 100,
      value: 'prod-text',
      rules: [],
      variants: null,
    });
    expect(r.chain).toEqual(['development', 'staging', 'production']);
    expect(r.sources).toEqual({
      enabled: 'production',
      percentage: 'staging',
      rules: 'base',
      value: 'production',
      variants: 'base',
    });

    const staging = s.resolve(s.getFlag('banner')!, 'staging');
    expect(staging).toMatchObject({ enabled: true, percentage: 100, value: 'prod-text' });
    expect(staging.sources).toEqual({
      enabled: 'production',
      percentage: 'staging',
      rules: 'base',
      value: 'production',
      variants: 'base',
    });

    const production = s.resolve(s.getFlag('banner')!, 'production');
    expect(production).toMatchObject({ enabled: true, percentage: 10, value: 'prod-text' });
    expect(production.sources).toEqual({
      enabled: 'production',
      percentage: 'production',
      rules: 'base',
      value: 'production',
      variants: 'base',
    });
  });

  it("development with no override inherits staging's percentage 100 and enabled, while staging inherits production's value", () => {
    const s = snapshot({
      environments: standardEnvironments(),
      flags: [flag('banner', { type: 'string', defaultEnabled: false, defaultValue: 'base-text' })],
      overrides: [
        override('production', 'banner', { enabled: false, value: 'prod-text' }),
        override('staging', 'banner', { enabled: true, percentage: 100 }),
      ],
    });
    const r = s.resolve(s.getFlag('banner')!, 'development');
    expect(r).toMatchObject({ enabled: true, percentage: 100, value: 'prod-text' });
    expect(r.sources).toMatchObject({ enabled: 'staging', percentage: 'staging', value: 'production' });
    expect(s.evaluate('banner', 'development', {}, 'caller')).toMatchObject({
      enabled: true,
      value: 'prod-text',
      source: 'production',
      reason: 'STATIC',
    });
    expect(s.evaluate('banner', 'production', {}, 'caller')).toMatchObject({
      enabled: false,
      value: 'caller',
      reason: 'DISABLED',
      source: 'production',
    });
  });

  it('reports "base" for every field when no environment overrides the flag', () => {
    const s = snapshot({
      environments: standardEnvironments(),
      flags: [
        flag('plain', {
          type: 'number',
          defaultEnabled: true,
          defaultValue: 7,
          rules: [rule(1, [cond('plan', 'eq', 'pro')], { serveValue: 9 })],
        }),
      ],
    });
    const r = s.resolve(s.getFlag('plain')!, 'development');
    expect(r.sources).toEqual({ enabled: 'base', percentage: 'base', rules: 'base', value: 'base', variants: 'base' });
    expect(r).toMatchObject({ enabled: true, percentage: null, value: 7 });
    expect(r.rules).toHaveLength(1);
    expect(s.evaluate('plain', 'development', {}, 0)).toMatchObject({ value: 7, source: 'base', reason: 'DEFAULT' });
    expect(s.evaluate('plain', 'development', { plan: 'pro' }, 0)).toMatchObject({
      value: 9,
      source: 'base',
      reason: 'TARGETING_MATCH',
    });
  });

  it('treats null override fields as "inherit" and an empty rule list as an override', () => {
    const s = snapshot({
      environments: standardEnvironments(),
      flags: [flag('f', { defaultEnabled: false, rules: [rule(1, [], { serveEnabled: true })] })],
      overrides: [
        override('production', 'f', { enabled: null, percentage: null, rules: null }),
        override('staging', 'f', { rules: [] }),
      ],
    });
    expect(s.resolve(s.getFlag('f')!, 'production').sources.rules).toBe('base');
    expect(s.evaluate('f', 'production', {}, false)).toMatchObject({ enabled: false, reason: 'DISABLED' });
    // Base rules are in production, but staging's empty list replaces them.
    expect(s.resolve(s.getFlag('f')!, 'development')).toMatchObject({ rules: [], sources: { rules: 'staging' } });
  });

  it('takes rules from the nearest environment that sets them', () => {
    const s = snapshot({
      environments: standardEnvironments(),
      flags: [flag('f', { defaultEnabled: true })],
      overrides: [
        override('production', 'f', { rules: [rule(1, [cond('country', 'eq', 'FR')], { serveEnabled: false })] }),
        override('development', 'f', { rules: [rule(1, [cond('country', 'eq', 'DE')], { serveEnabled: false })] }),
      ],
    });
    expect(s.evaluate('f', 'staging', { country: 'FR' }, true)).toMatchObject({
      enabled: false,
      reason: 'TARGETING_MATCH',
      source: 'production',
    });
    expect(s.evaluate('f', 'development', { country: 'FR' }, true)).toMatchObject({ enabled: true, reason: 'DEFAULT' });
    expect(s.evaluate('f', 'development', { country: 'DE' }, true)).toMatchObject({
      enabled: false,
      reason: 'TARGETING_MATCH',
      source: 'development',
    });
  });
});

describe('seed scenario: "Development inherits staging\'s 100% (no override needed)"', () => {
  const s = snapshot({
    environments: standardEnvironments(),
    flags: [flag('new-checkout', { defaultEnabled: false })],
    overrides: [
      override('production', 'new-checkout', { enabled: true, percentage: 10, reason: 'Gradual rollout' }),
      override('staging', 'new-checkout', { percentage: 100, reason: 'Full test coverage' }),
    ],
  });
  const users = userKeys(5000);

  it('is on for every development user, with the percentage coming from staging', () => {
    const on = users.filter((u) => s.isEnabled('new-checkout', 'development', { targetingKey: u }));
    expect(on).toHaveLength(users.length);
    expect(s.isEnabled('new-checkout', 'development', {})).toBe(true);
    expect(s.resolve(s.getFlag('new-checkout')!, 'development')).toMatchObject({
      enabled: true,
      percentage: 100,
      sources: { enabled: 'production', percentage: 'staging' },
    });
    expect(s.getOverride('env-development', 'flag-new-checkout')).toBeUndefined();
  });

  it('is on for every staging user and for about 10% of production users', () => {
    expect(users.filter((u) => s.isEnabled('new-checkout', 'staging', { targetingKey: u }))).toHaveLength(users.length);
    const share =
      users.filter((u) => s.isEnabled('new-checkout', 'production', { targetingKey: u })).length / users.length;
    expect(share).toBeGreaterThan(0.085);
    expect(share).toBeLessThan(0.115);
    expect(s.evaluate('new-checkout', 'production', { targetingKey: 'user-1' }, false)).toMatchObject({
      reason: 'SPLIT',
      source: 'production',
    });
  });
});

describe('environment defaults (settings.defaultEnabled)', () => {
  it('development defaultEnabled=true turns on flags nobody overrides', () => {
    const s = snapshot({
      environments: standardEnvironments({ development: { defaultEnabled: true } }),
      flags: [flag('wip', { defaultEnabled: false })],
    });
    expect(enabledIn(s, 'wip')).toEqual({ production: false, staging: false, development: true });
    expect(s.evaluate('wip', 'development', {}, false)).toMatchObject({
      enabled: true,
      reason: 'STATIC',
      source: 'development:defaults',
    });
    expect(s.evaluate('wip', 'staging', {}, true)).toMatchObject({
      enabled: false,
      reason: 'DISABLED',
      source: 'base',
    });
    expect(s.resolve(s.getFlag('wip')!, 'development').sources.enabled).toBe('development:defaults');
  });

  it('production defaultEnabled=false turns off a base defaultEnabled=true flag, for production and what inherits from it', () => {
    const s = snapshot({
      environments: standardEnvironments({ production: { defaultEnabled: false } }),
      flags: [flag('legacy', { defaultEnabled: true })],
    });
    expect(enabledIn(s, 'legacy')).toEqual({ production: false, staging: false, development: false });
    expect(s.evaluate('legacy', 'production', {}, true)).toMatchObject({
      enabled: false,
      reason: 'DISABLED',
      source: 'production:defaults',
    });
    expect(s.evaluate('legacy', 'development', {}, true).source).toBe('production:defaults');
  });

  it('an explicit override anywhere in the chain beats every environment default', () => {
    const s = snapshot({
      environments: standardEnvironments({
        production: { defaultEnabled: false },
        development: { defaultEnabled: false },
      }),
      flags: [flag('ready', { defaultEnabled: false })],
      overrides: [override('production', 'ready', { enabled: true })],
    });
    expect(enabledIn(s, 'ready')).toEqual({ production: true, staging: true, development: true });
    expect(s.resolve(s.getFlag('ready')!, 'development').sources.enabled).toBe('production');

    const off = snapshot({
      environments: standardEnvironments({ development: { defaultEnabled: true } }),
      flags: [flag('held', { defaultEnabled: true })],
      overrides: [override('staging', 'held', { enabled: false })],
    });
    expect(enabledIn(off, 'held')).toEqual({ production: true, staging: false, development: false });
    expect(off.evaluate('held', 'development', {}, true)).toMatchObject({ enabled: false, source: 'staging' });
  });

  it('the nearest environment default wins', () => {
    const s = snapshot({
      environments: standardEnvironments({
        production: { defaultEnabled: false },
        development: { defaultEnabled: true },
      }),
      flags: [flag('f', { defaultEnabled: false }), flag('g', { defaultEnabled: true })],
    });
    for (const key of ['f', 'g']) {
      expect(enabledIn(s, key)).toEqual({ production: false, staging: false, development: true });
      expect(s.evaluate(key, 'development', {}, false).source).toBe('development:defaults');
      expect(s.evaluate(key, 'staging', {}, false).source).toBe('production:defaults');
    }
  });

  it('ignores a defaultEnabled setting that is not a boolean', () => {
    const s = snapshot({
      environments: standardEnvironments({ development: { defaultEnabled: 'yes' as unknown as boolean } }),
      flags: [flag('f', { defaultEnabled: false })],
    });
    expect(s.evaluate('f', 'development', {}, true)).toMatchObject({ enabled: false, source: 'base' });
  });
});

describe('incremental apply()', () => {
  function base(): FlagSnapshot {
    return snapshot({
      environments: standardEnvironments(),
      flags: [flag('f', { defaultEnabled: false }), flag('other', { defaultEnabled: false })],
      overrides: [override('production', 'f', { enabled: false })],
    });
  }

  it('an override upsert changes the next evaluation of that environment and its descendants only', () => {
    const s = base();
    expect(enabledIn(s, 'f')).toEqual({ production: false, staging: false, development: false });
    expect(enabledIn(s, 'other')).toEqual({ production: false, staging: false, development: false });

    const compiledProduction = s.compiledFlag('f', 'production');
    const compiledOther = s.compiledFlag('other', 'development');
    s.apply({ kind: 'override', op: 'upsert', override: override('staging', 'f', { enabled: true }) });
    expect(enabledIn(s, 'f')).toEqual({ production: false, staging: true, development: true });
    expect(enabledIn(s, 'other')).toEqual({ production: false, staging: false, development: false });
    // Only what the change can affect was recompiled.
    expect(s.compiledFlag('f', 'production')).toBe(compiledProduction);
    expect(s.compiledFlag('other', 'development')).toBe(compiledOther);
    expect(s.evaluate('f', 'development', {}, false).source).toBe('staging');

    s.apply({
      kind: 'override',
      op: 'upsert',
      override: override('development', 'f', { enabled: false }),
    });
    expect(enabledIn(s, 'f')).toEqual({ production: false, staging: true, development: false });

    s.apply({
      kind: 'override',
      op: 'delete',
      id: 'ef-development-f',
      environmentId: 'env-development',
      flagId: 'flag-f',
    });
    expect(enabledIn(s, 'f')).toEqual({ production: false, staging: true, development: true });

    s.apply({
      kind: 'override',
      op: 'delete',
      id: 'ef-staging-f',
      environmentId: 'env-staging',
      flagId: 'flag-f',
    });
    expect(enabledIn(s, 'f')).toEqual({ production: false, staging: false, development: false });
  });

  it('an upsert at the root reaches every descendant', () => {
    const s = base();
    enabledIn(s, 'f');
    s.apply({
      kind: 'override',
      op: 'upsert',
      override: override('production', 'f', { enabled: true, percentage: 100 }),
    });
    expect(enabledIn(s, 'f')).toEqual({ production: true, staging: true, development: true });
  });

  it('re-parenting an environment changes its resolution', () => {
    const s = base();
    s.apply({ kind: 'override', op: 'upsert', override: override('staging', 'f', { enabled: true }) });
    expect(enabledIn(s, 'f').development).toBe(true);
    s.apply({ kind: 'environment', op: 'upsert', environment: env('development', 'production') });
    expect(s.getEnvironmentChain('development').map((e) => e.slug)).toEqual(['development', 'production']);
    expect(enabledIn(s, 'f')).toEqual({ production: false, staging: true, development: false });
    s.apply({
      kind: 'environment',
      op: 'upsert',
      environment: env('development', null, { settings: { defaultEnabled: true } }),
    });
    expect(s.evaluate('f', 'development', {}, false)).toMatchObject({ enabled: true, source: 'development:defaults' });
  });

  it('a change of environment settings reaches the compiled flags of its descendants', () => {
    const s = base();
    expect(enabledIn(s, 'other')).toEqual({ production: false, staging: false, development: false });
    s.apply({
      kind: 'environment',
      op: 'upsert',
      environment: env('staging', 'production', { settings: { defaultEnabled: true } }),
    });
    expect(enabledIn(s, 'other')).toEqual({ production: false, staging: true, development: true });
  });

  it('deleting an environment drops it and what its children inherited from it', () => {
    const s = base();
    s.apply({ kind: 'override', op: 'upsert', override: override('staging', 'f', { enabled: true }) });
    expect(enabledIn(s, 'f').development).toBe(true);
    s.apply({ kind: 'environment', op: 'delete', id: 'env-staging', slug: 'staging' });
    expect(s.evaluate('f', 'staging', {}, false)).toMatchObject({ reason: 'ERROR', errorCode: 'INVALID_CONTEXT' });
    expect(s.getOverride('env-staging', 'flag-f')).toBeUndefined();
    expect(s.getEnvironmentChain('development').map((e) => e.slug)).toEqual(['development']);
    expect(s.evaluate('f', 'development', {}, true)).toMatchObject({ enabled: false, source: 'base' });
  });

  it('deleting a flag makes it FLAG_NOT_FOUND everywhere', () => {
    const s = base();
    enabledIn(s, 'f');
    s.apply({ kind: 'flag', op: 'delete', id: 'flag-f', key: 'f' });
    for (const e of ENVS) {
      expect(s.evaluate('f', e, {}, true)).toMatchObject({
        enabled: false,
        value: true,
        reason: 'ERROR',
        errorCode: 'FLAG_NOT_FOUND',
        environment: e,
      });
      expect(s.isEnabled('f', e, {})).toBe(false);
    }
    expect(s.getFlag('f')).toBeUndefined();
    expect(s.getOverride('env-production', 'flag-f')).toBeUndefined();
    expect(enabledIn(s, 'other')).toEqual({ production: false, staging: false, development: false });
  });

  it('a flag upsert replaces the compiled flag, including a renamed key', () => {
    const s = base();
    expect(s.evaluate('other', 'staging', {}, false).enabled).toBe(false);
    s.apply({ kind: 'flag', op: 'upsert', flag: flag('other', { defaultEnabled: true }) });
    expect(s.evaluate('other', 'staging', {}, false).enabled).toBe(true);
    s.apply({ kind: 'flag', op: 'upsert', flag: { ...flag('other', { defaultEnabled: true }), key: 'renamed' } });
    expect(s.evaluate('other', 'staging', {}, false).errorCode).toBe('FLAG_NOT_FOUND');
    expect(s.evaluate('renamed', 'staging', {}, false).enabled).toBe(true);
  });

  it('a segment upsert changes flags that were already compiled', () => {
    const s2 = snapshot({
      environments: [env('prod')],
      flags: [
        flag('f', {
          defaultEnabled: true,
          rules: [rule(1, [cond('segment', 'in_segment', 'beta')], { serveEnabled: false })],
        }),
      ],
      segments: [segment('beta', [cond('email', 'ends_with', '@beta.io')])],
    });
    expect(s2.evaluate('f', 'prod', { email: 'a@beta.io' }, true)).toMatchObject({
      enabled: false,
      reason: 'TARGETING_MATCH',
    });
    s2.apply({ kind: 'segment', op: 'upsert', segment: segment('beta', [cond('email', 'ends_with', '@example.com')]) });
    expect(s2.evaluate('f', 'prod', { email: 'a@beta.io' }, true)).toMatchObject({ enabled: true, reason: 'DEFAULT' });
    s2.apply({ kind: 'segment', op: 'delete', id: 'seg-beta', key: 'beta' });
    expect(s2.evaluate('f', 'prod', { email: 'a@example.com' }, true)).toMatchObject({
      enabled: true,
      reason: 'DEFAULT',
    });
  });

  it('load() replaces the whole content', () => {
    const s = base();
    enabledIn(s, 'f');
    s.load({
      environments: [env('solo')],
      flags: [flag('f', { defaultEnabled: true })],
      overrides: [],
      segments: [],
    });
    expect(s.evaluate('f', 'solo', {}, false).enabled).toBe(true);
    expect(s.evaluate('f', 'production', {}, false).errorCode).toBe('INVALID_CONTEXT');
    expect(s.listEnvironments().map((e) => e.slug)).toEqual(['solo']);
  });
});

describe('environment errors', () => {
  const s = snapshot({
    environments: [...standardEnvironments(), env('retired', null, { isActive: false })],
    flags: [flag('f', { type: 'string', defaultValue: 'on-value' })],
  });

  it("an unknown environment gives reason ERROR, INVALID_CONTEXT and the caller's default", () => {
    const d = s.evaluate('f', 'qa', { targetingKey: 'u' }, 'caller-default');
    expect(d).toMatchObject({
      flagKey: 'f',
      value: 'caller-default',
      enabled: false,
      reason: 'ERROR',
      errorCode: 'INVALID_CONTEXT',
      environment: 'qa',
    });
    expect(d.errorMessage).toContain('does not exist');
    expect(s.isEnabled('f', 'qa', {})).toBe(false);
  });

  it("an inactive environment gives reason ERROR, INVALID_CONTEXT and the caller's default", () => {
    const d = s.evaluate('f', 'retired', { targetingKey: 'u' }, 'caller-default');
    expect(d).toMatchObject({
      value: 'caller-default',
      enabled: false,
      reason: 'ERROR',
      errorCode: 'INVALID_CONTEXT',
      environment: 'retired',
    });
    expect(d.errorMessage).toContain('inactive');
    expect(s.isEnabled('f', 'retired', {})).toBe(false);
    // The same flag is fine in an active environment.
    expect(s.evaluate('f', 'production', {}, 'caller-default')).toMatchObject({ value: 'on-value', enabled: true });
  });

  it('with no environments at all, evaluation uses the base flag with environment null', () => {
    const bare = snapshot({
      flags: [flag('f', { type: 'string', defaultValue: 'base-value' }), flag('off', { defaultEnabled: false })],
    });
    expect(bare.hasEnvironments()).toBe(false);
    expect(bare.evaluate('f', null, {}, 'x')).toMatchObject({
      value: 'base-value',
      enabled: true,
      environment: null,
      source: 'base',
      reason: 'STATIC',
    });
    expect(bare.evaluate('off', null, {}, true)).toMatchObject({
      value: false,
      enabled: false,
      environment: null,
      reason: 'DISABLED',
    });
    expect(bare.isEnabled('f', null, {})).toBe(true);
    expect(bare.resolve(bare.getFlag('f')!, null)).toMatchObject({ environment: null, chain: [] });
    bare.warm();
    expect(bare.compiledFlag('f', null)).toMatchObject({ key: 'f', environment: null, enabled: true });
  });
});
