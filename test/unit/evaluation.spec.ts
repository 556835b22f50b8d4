import {
  EvaluationContext,
  FeatureFlagsError,
  FeatureFlagsValidationError,
  FlagRuleDefinition,
  FlagSnapshot,
  assertEnvironmentInput,
  assertFlagInput,
  assertFlagKey,
  assertOverrideInput,
  assertPercentage,
  assertRules,
  assertSegmentInput,
  assertSlug,
  assertValue,
  assertVariants,
  rolloutBucket,
  typeOfValue,
  valueFitsType,
} from '../../lib/core';
import { cond, env, flag, override, rule, snapshot, userKeys } from './fixtures';

function single(f: ReturnType<typeof flag>, overrides: Parameters<typeof override>[2] | null = null): FlagSnapshot {
  return snapshot({
    environments: [env('prod')],
    flags: [f],
    overrides: overrides ? [override('prod', f.key, overrides)] : [],
  });
}

describe('rules', () => {
  const rules: FlagRuleDefinition[] = [
    rule(30, [cond('country', 'eq', 'FR')], { name: 'late', serveValue: 'from-30' }),
    rule(10, [cond('plan', 'eq', 'pro')], { name: 'first', serveValue: 'from-10' }),
    rule(20, [cond('country', 'eq', 'FR')], { name: 'middle', serveValue: 'from-20' }),
  ];
  const s = single(flag('copy', { type: 'string', defaultValue: 'plain', rules }));

  it('are tried by ascending priority, whatever their order in the list; the first match wins', () => {
    expect(s.evaluate('copy', 'prod', { plan: 'pro', country: 'FR' }, 'x')).toMatchObject({
      value: 'from-10',
      reason: 'TARGETING_MATCH',
      enabled: true,
    });
    expect(s.evaluate('copy', 'prod', { country: 'FR' }, 'x')).toMatchObject({
      value: 'from-20',
      reason: 'TARGETING_MATCH',
    });
    expect(s.evaluate('copy', 'prod', { country: 'DE' }, 'x')).toMatchObject({ value: 'plain', reason: 'DEFAULT' });
  });

  it('keep list order between equal priorities', () => {
    const t = single(
      flag('tie', {
        type: 'number',
        defaultValue: 0,
        rules: [rule(5, [], { serveValue: 1 }), rule(5, [], { serveValue: 2 })],
      }),
    );
    expect(t.evaluate('tie', 'prod', {}, -1).value).toBe(1);
  });

  it('skip disabled rules', () => {
    const t = single(
      flag('f', {
        type: 'string',
        defaultValue: 'plain',
        rules: [
          rule(1, [cond('country', 'eq', 'FR')], { enabled: false, serveValue: 'disabled-rule' }),
          rule(2, [cond('country', 'eq', 'FR')], { serveValue: 'enabled-rule' }),
        ],
      }),
    );
    expect(t.evaluate('f', 'prod', { country: 'FR' }, 'x').value).toBe('enabled-rule');
    const onlyDisabled = single(flag('g', { rules: [rule(1, [], { enabled: false, serveEnabled: false })] }));
    expect(onlyDisabled.evaluate('g', 'prod', {}, false)).toMatchObject({ enabled: true, reason: 'STATIC' });
  });

  it('AND their conditions', () => {
    const t = single(
      flag('f', {
        defaultEnabled: true,
        rules: [rule(1, [cond('country', 'eq', 'FR'), cond('plan', 'eq', 'pro')], { serveEnabled: false })],
      }),
    );
    expect(t.evaluate('f', 'prod', { country: 'FR', plan: 'pro' }, true)).toMatchObject({
      enabled: false,
      reason: 'TARGETING_MATCH',
    });
    expect(t.evaluate('f', 'prod', { country: 'FR', plan: 'free' }, true)).toMatchObject({
      enabled: true,
      reason: 'DEFAULT',
    });
  });

  it('a rule rolloutPercentage applies the rule to that share of matching keys only', () => {
    const t = single(
      flag('f', {
        type: 'string',
        defaultValue: 'plain',
        rules: [rule(1, [cond('country', 'eq', 'FR')], { rolloutPercentage: 30, serveValue: 'rolled' })],
      }),
    );
    const users = userKeys(4000);
    const got = users.map((u) => t.evaluate<string>('f', 'prod', { targetingKey: u, country: 'FR' }, 'x').value);
    const expected = users.map((u) => (rolloutBucket('f', u) < 3000 ? 'rolled' : 'plain'));
    expect(got).toEqual(expected);
    const share = got.filter((v) => v === 'rolled').length / users.length;
    expect(Math.abs(share - 0.3)).toBeLessThan(0.02);
    // Non-matching contexts never get the rule, whatever their bucket.
    expect(
      users
        .slice(0, 200)
        .every((u) => t.evaluate<string>('f', 'prod', { targetingKey: u, country: 'DE' }, 'x').value === 'plain'),
    ).toBe(true);
  });

  it('a partial rule rollout is skipped without targeting key; 0% never applies', () => {
    const t = single(
      flag('f', {
        rules: [
          rule(1, [], { rolloutPercentage: 50, serveEnabled: false }),
          rule(2, [cond('plan', 'eq', 'pro')], { rolloutPercentage: 0, serveEnabled: false }),
        ],
      }),
    );
    expect(t.evaluate('f', 'prod', {}, false)).toMatchObject({ enabled: true, reason: 'DEFAULT' });
    expect(
      t.evaluate(
        'f',
        'prod',
        { plan: 'pro', targetingKey: userKeys(50).find((u) => rolloutBucket('f', u) >= 5000)! },
        false,
      ),
    ).toMatchObject({
      enabled: true,
      reason: 'DEFAULT',
    });
  });

  it('a rule rolled out to 100% applies to every matching context, with or without targeting key (like a flag at 100%)', () => {
    const t = single(
      flag('f', {
        type: 'string',
        defaultValue: 'plain',
        rules: [rule(1, [cond('plan', 'eq', 'pro')], { rolloutPercentage: 100, serveValue: 'all-pros' })],
      }),
    );
    expect(t.evaluate('f', 'prod', { plan: 'pro' }, 'x')).toMatchObject({
      value: 'all-pros',
      reason: 'TARGETING_MATCH',
    });
    expect(t.evaluate('f', 'prod', { plan: 'pro', targetingKey: 'u1' }, 'x')).toMatchObject({
      value: 'all-pros',
      reason: 'TARGETING_MATCH',
    });
    expect(t.isEnabled('f', 'prod', { plan: 'pro' })).toBe(true);
    const off = single(flag('g', { rules: [rule(1, [], { rolloutPercentage: 100, serveEnabled: false })] }));
    expect(off.isEnabled('g', 'prod', {})).toBe(false);
  });

  it('a serveEnabled=false rule turns the flag off for matching contexts', () => {
    const t = single(
      flag('f', {
        type: 'string',
        defaultValue: 'on',
        rules: [rule(1, [cond('country', 'eq', 'FR')], { serveEnabled: false, serveValue: 'ignored' })],
      }),
    );
    expect(t.evaluate('f', 'prod', { country: 'FR' }, 'caller')).toMatchObject({
      enabled: false,
      value: 'caller',
      reason: 'TARGETING_MATCH',
    });
    expect(t.evaluate('f', 'prod', { country: 'DE' }, 'caller')).toMatchObject({
      enabled: true,
      value: 'on',
      reason: 'DEFAULT',
    });
    const b = single(flag('b', { rules: [rule(1, [cond('country', 'eq', 'FR')], { serveEnabled: false })] }));
    expect(b.evaluate('b', 'prod', { country: 'FR' }, true)).toMatchObject({ enabled: false, value: false });
    expect(b.isEnabled('b', 'prod', { country: 'FR' })).toBe(false);
  });

  it('a serveEnabled=true rule turns on a flag whose percentage would leave the key out', () => {
    const out = userKeys(100).find((u) => rolloutBucket('f', u) >= 1000)!;
    const t = single(flag('f', { rules: [rule(1, [cond('plan', 'eq', 'pro')])] }), { percentage: 10 });
    expect(t.evaluate('f', 'prod', { targetingKey: out }, false)).toMatchObject({ enabled: false, reason: 'SPLIT' });
    expect(t.evaluate('f', 'prod', { targetingKey: out, plan: 'pro' }, false)).toMatchObject({
      enabled: true,
      reason: 'TARGETING_MATCH',
    });
  });

  it.each<[string, ReturnType<typeof flag>, unknown, unknown]>([
    ['string', flag('s', { type: 'string', defaultValue: 'plain' }), 'special', 'plain'],
    ['number', flag('n', { type: 'number', defaultValue: 1 }), 42, 1],
    [
      'json',
      flag('j', { type: 'json', defaultValue: { layout: 'a' } }),
      { layout: 'b', columns: [1, 2] },
      { layout: 'a' },
    ],
  ])('serveValue is served on a match for a %s flag', (_type, f, serveValue, base) => {
    const t = single({ ...f, rules: [rule(1, [cond('vip', 'eq', true)], { serveValue: serveValue as never })] });
    expect(t.evaluate(f.key, 'prod', { vip: true }, null)).toMatchObject({
      value: serveValue,
      enabled: true,
      reason: 'TARGETING_MATCH',
    });
    expect(t.evaluate(f.key, 'prod', { vip: false }, null)).toMatchObject({
      value: base,
      enabled: true,
      reason: 'DEFAULT',
    });
  });

  it('a rule without serveValue serves the resolved value of the environment', () => {
    const t = single(flag('s', { type: 'string', defaultValue: 'base', rules: [rule(1, [cond('vip', 'eq', true)])] }), {
      value: 'env-value',
    });
    expect(t.evaluate('s', 'prod', { vip: true }, 'x')).toMatchObject({
      value: 'env-value',
      reason: 'TARGETING_MATCH',
      source: 'base',
    });
  });

  it('a rule without serveValue picks a variant, keeping reason TARGETING_MATCH', () => {
    const t = single(
      flag('s', {
        type: 'string',
        defaultValue: 'base',
        variants: [{ key: 'only', value: 'variant-value', weight: 1 }],
        rules: [rule(1, [cond('vip', 'eq', true)])],
      }),
    );
    expect(t.evaluate('s', 'prod', { vip: true, targetingKey: 'u' }, 'x')).toMatchObject({
      value: 'variant-value',
      variant: 'only',
      reason: 'TARGETING_MATCH',
    });
    expect(t.evaluate('s', 'prod', { vip: false, targetingKey: 'u' }, 'x')).toMatchObject({
      value: 'variant-value',
      variant: 'only',
      reason: 'SPLIT',
    });
  });

  it('reports the environment that supplied the matching rule as source', () => {
    const t = single(flag('f', { defaultEnabled: true }), {
      rules: [rule(1, [cond('country', 'eq', 'FR')], { serveEnabled: false })],
    });
    expect(t.evaluate('f', 'prod', { country: 'FR' }, true)).toMatchObject({
      source: 'prod',
      environment: 'prod',
      flagKey: 'f',
    });
  });
});

describe('flag status and kill switch', () => {
  it.each(['inactive', 'archived'] as const)(
    'a %s flag is off with reason DISABLED, even with defaultEnabled and matching rules',
    (status) => {
      const t = single(
        flag('f', {
          type: 'string',
          status,
          defaultEnabled: true,
          defaultValue: 'on',
          rules: [rule(1, [], { serveValue: 'rule' })],
        }),
        { enabled: true, percentage: 100 },
      );
      expect(t.evaluate('f', 'prod', { targetingKey: 'u' }, 'caller')).toEqual({
        flagKey: 'f',
        value: 'caller',
        enabled: false,
        reason: 'DISABLED',
        environment: 'prod',
        source: 'base',
      });
      expect(t.isEnabled('f', 'prod', { targetingKey: 'u' })).toBe(false);
      const b = single(flag('b', { status, defaultEnabled: true }));
      expect(b.evaluate('b', 'prod', {}, true)).toMatchObject({ value: false, enabled: false, reason: 'DISABLED' });
    },
  );

  it('environment enabled=false is a kill switch that beats matching rules', () => {
    const t = single(
      flag('f', {
        type: 'string',
        defaultEnabled: true,
        defaultValue: 'on',
        rules: [rule(1, [cond('plan', 'eq', 'pro')], { serveValue: 'pro' })],
      }),
      {
        enabled: false,
      },
    );
    expect(t.evaluate('f', 'prod', { plan: 'pro' }, 'caller')).toMatchObject({
      enabled: false,
      value: 'caller',
      reason: 'DISABLED',
      source: 'prod',
    });
    expect(t.isEnabled('f', 'prod', { plan: 'pro' })).toBe(false);
  });

  it('a disabled parent environment switches off children that do not override enabled', () => {
    const t = snapshot({
      environments: [env('prod'), env('canary', 'prod')],
      flags: [flag('f', { defaultEnabled: true, rules: [rule(1, [])] })],
      overrides: [override('prod', 'f', { enabled: false }), override('canary', 'f', { percentage: 100 })],
    });
    expect(t.evaluate('f', 'canary', {}, true)).toMatchObject({ enabled: false, reason: 'DISABLED', source: 'prod' });
  });
});

describe('reasons and errors', () => {
  it('STATIC without rules, DEFAULT when rules exist but none matched', () => {
    const t = snapshot({
      environments: [env('prod')],
      flags: [
        flag('no-rules'),
        flag('with-rules', { rules: [rule(1, [cond('plan', 'eq', 'pro')], { serveEnabled: false })] }),
      ],
    });
    expect(t.evaluate('no-rules', 'prod', {}, false)).toEqual({
      flagKey: 'no-rules',
      value: true,
      enabled: true,
      reason: 'STATIC',
      environment: 'prod',
      source: 'base',
    });
    expect(t.evaluate('with-rules', 'prod', { plan: 'free' }, false)).toMatchObject({
      value: true,
      enabled: true,
      reason: 'DEFAULT',
    });
  });

  it("an unknown flag gives FLAG_NOT_FOUND with the caller's default", () => {
    const t = single(flag('f'));
    expect(t.evaluate('nope', 'prod', {}, 'fallback')).toEqual({
      flagKey: 'nope',
      value: 'fallback',
      enabled: false,
      reason: 'ERROR',
      environment: 'prod',
      source: 'base',
      errorCode: 'FLAG_NOT_FOUND',
      errorMessage: 'Flag "nope" does not exist.',
    });
    expect(snapshot().evaluate('nope', null, {}, 7)).toMatchObject({
      value: 7,
      errorCode: 'FLAG_NOT_FOUND',
      environment: null,
    });
    expect(t.isEnabled('nope', 'prod', {})).toBe(false);
  });

  it("a non-boolean flag that is on but has no value serves the caller's default", () => {
    const t = single(flag('s', { type: 'string', defaultValue: null }));
    expect(t.evaluate('s', 'prod', {}, 'caller')).toMatchObject({ value: 'caller', enabled: true, reason: 'STATIC' });
  });

  it("a boolean flag serves its enabled state, not the caller's default", () => {
    const t = snapshot({
      environments: [env('prod')],
      flags: [flag('on', { defaultEnabled: true }), flag('off', { defaultEnabled: false })],
    });
    expect(t.evaluate('on', 'prod', {}, false).value).toBe(true);
    expect(t.evaluate('off', 'prod', {}, true).value).toBe(false);
  });
});

describe('evaluate never throws', () => {
  // [label, rules, expected enabled, expected reason]: invalid conditions never match (fail closed).
  const weirdRules = [
    [
      'conditions that are not an array',
      [{ priority: 1, enabled: true, serveEnabled: false, conditions: 'country = FR' }],
      false,
      'ERROR',
    ],
    ['a null condition', [rule(1, [null as never], { serveEnabled: false })], true, 'DEFAULT'],
    [
      'an "in" condition whose value is not an array',
      [rule(1, [cond('country', 'in', 'FR')], { serveEnabled: false })],
      true,
      'DEFAULT',
    ],
    [
      'a gt condition with an object value',
      [rule(1, [cond('age', 'gt', { n: 1 })], { serveEnabled: false })],
      true,
      'DEFAULT',
    ],
    [
      'a time_window whose days are a string',
      [
        rule(1, [cond('ts', 'time_window', { start: '09:00', end: '17:00', days: 'weekdays' })], {
          serveEnabled: false,
        }),
      ],
      true,
      'DEFAULT',
    ],
    [
      'a matches condition with a broken pattern',
      [rule(1, [cond('email', 'matches', '*@x')], { serveEnabled: false })],
      true,
      'DEFAULT',
    ],
    [
      'a semver condition with a number',
      [rule(1, [cond('v', 'semver_gt', 1)], { serveEnabled: false })],
      true,
      'DEFAULT',
    ],
    [
      'a rule without priority (still tried)',
      [{ enabled: true, serveEnabled: false, conditions: [] }],
      false,
      'TARGETING_MATCH',
    ],
  ] as Array<[string, unknown, boolean, string]>;

  it.each(weirdRules)('with %s', (_label, rules, enabled, reason) => {
    const t = single(flag('f', { defaultEnabled: true, rules: rules as FlagRuleDefinition[] }));
    const ctx = { country: 'FR', age: 40, ts: '2024-01-03T10:00:00Z', email: 'a@x', v: '2.0.0', targetingKey: 'u' };
    const d = t.evaluate('f', 'prod', ctx, true);
    expect(d).toMatchObject({ flagKey: 'f', enabled, reason });
    // An error serves the caller's default (true here); otherwise a boolean flag serves its state.
    expect(d.value).toBe(reason === 'ERROR' ? true : enabled);
    if (reason === 'ERROR') expect(d.errorCode).toBe('GENERAL');
    expect(t.isEnabled('f', 'prod', ctx)).toBe(enabled);
  });

  it('reports GENERAL for a rule list that breaks compilation, and isEnabled is false', () => {
    const t = single(
      flag('f', {
        defaultEnabled: true,
        rules: [{ priority: 1, enabled: true, serveEnabled: false, conditions: 'x' as never }],
      }),
    );
    expect(t.evaluate('f', 'prod', {}, 'fallback')).toMatchObject({
      reason: 'ERROR',
      errorCode: 'GENERAL',
      value: 'fallback',
      enabled: false,
    });
    expect(t.isEnabled('f', 'prod', {})).toBe(false);
  });

  it('with weird context values', () => {
    const t = single(
      flag('f', {
        defaultEnabled: true,
        rules: [
          rule(1, [cond('country', 'eq', 'FR')], { serveEnabled: false }),
          rule(2, [cond('age', 'gt', 18)], { serveEnabled: false }),
        ],
      }),
    );
    const contexts: EvaluationContext[] = [
      { country: Symbol('FR') },
      { country: 10n },
      { country: { toString: () => 'FR' } },
      { age: [19] },
      { age: Object.create(null) },
      { country: () => 'FR' },
      { targetingKey: { id: 1 } as unknown as string },
    ];
    for (const ctx of contexts) {
      const d = t.evaluate('f', 'prod', ctx, false);
      expect(d).toMatchObject({ enabled: true, reason: 'DEFAULT' });
    }
  });

  it('with a context whose attribute getter throws, or no context at all', () => {
    const t = single(
      flag('f', { defaultEnabled: true, rules: [rule(1, [cond('country', 'eq', 'FR')], { serveEnabled: false })] }),
    );
    const hostile = {
      get country(): string {
        throw new Error('boom');
      },
    };
    expect(t.evaluate('f', 'prod', hostile, true)).toMatchObject({
      reason: 'ERROR',
      errorCode: 'GENERAL',
      errorMessage: 'boom',
      value: true,
      enabled: false,
    });
    expect(t.isEnabled('f', 'prod', hostile)).toBe(false);
    expect(t.evaluate('f', 'prod', null as unknown as EvaluationContext, true)).toMatchObject({
      reason: 'ERROR',
      errorCode: 'GENERAL',
    });
  });
});

describe('validation helpers', () => {
  function fieldOf(fn: () => unknown): string {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(FeatureFlagsValidationError);
      expect(e).toBeInstanceOf(FeatureFlagsError);
      const err = e as FeatureFlagsValidationError;
      expect(err.code).toBe('VALIDATION_FAILED');
      expect(err.message).toBe(`${err.field}: ${err.problem}`);
      return err.field;
    }
    throw new Error('expected a FeatureFlagsValidationError');
  }

  const goodFlag = {
    key: 'new-checkout',
    name: 'New checkout',
    type: 'boolean',
    status: 'active',
    defaultEnabled: false,
  };

  it('assertFlagInput accepts a valid flag (returns nothing) and names the offending field otherwise', () => {
    expect(assertFlagInput(goodFlag)).toBeUndefined();
    expect(fieldOf(() => assertFlagInput({ ...goodFlag, key: 'bad key' }))).toBe('key');
    expect(fieldOf(() => assertFlagInput({ ...goodFlag, key: '-leading' }))).toBe('key');
    expect(fieldOf(() => assertFlagInput({ ...goodFlag, key: 'k'.repeat(129) }))).toBe('key');
    expect(fieldOf(() => assertFlagInput({ ...goodFlag, name: 42 }))).toBe('name');
    expect(fieldOf(() => assertFlagInput({ ...goodFlag, type: 'integer' }))).toBe('type');
    expect(fieldOf(() => assertFlagInput({ ...goodFlag, status: 'deleted' }))).toBe('status');
    expect(fieldOf(() => assertFlagInput({ ...goodFlag, defaultEnabled: 'yes' }))).toBe('defaultEnabled');
    expect(fieldOf(() => assertFlagInput({ ...goodFlag, tags: ['a', 1] }))).toBe('tags');
    expect(fieldOf(() => assertFlagInput({ ...goodFlag, metadata: [] }))).toBe('metadata');
    expect(fieldOf(() => assertFlagInput({ ...goodFlag, defaultValue: 'on' }))).toBe('defaultValue');
    expect(fieldOf(() => assertFlagInput({ ...goodFlag, type: 'number', defaultValue: Infinity }))).toBe(
      'defaultValue',
    );
    expect(fieldOf(() => assertFlagInput({ ...goodFlag, rules: [rule(1, [cond('a', 'gt', 'x')])] }))).toBe(
      'rules[0].conditions[0]',
    );
    expect(
      fieldOf(() => assertFlagInput({ ...goodFlag, type: 'string', rules: [rule(1, [], { serveValue: 3 })] })),
    ).toBe('rules[0].serveValue');
    expect(
      fieldOf(() => assertFlagInput({ ...goodFlag, type: 'string', variants: [{ key: 'a', value: 1, weight: 1 }] })),
    ).toBe('variants[0].value');
  });

  it('assertFlagInput in partial mode checks only the fields present', () => {
    expect(assertFlagInput({ name: 'renamed' }, true)).toBeUndefined();
    expect(fieldOf(() => assertFlagInput({ name: 'renamed' }))).toBe('key');
    expect(fieldOf(() => assertFlagInput({ key: 'x y' }, true))).toBe('key');
  });

  it('assertOverrideInput checks overrides against the flag type', () => {
    expect(
      assertOverrideInput({ enabled: null, percentage: null, rules: null, value: null }, 'string'),
    ).toBeUndefined();
    expect(
      assertOverrideInput({ enabled: true, percentage: 12.5, value: 'x', reason: 'why' }, 'string'),
    ).toBeUndefined();
    expect(fieldOf(() => assertOverrideInput({ enabled: 'true' }, 'boolean'))).toBe('enabled');
    expect(fieldOf(() => assertOverrideInput({ percentage: 101 }, 'boolean'))).toBe('percentage');
    expect(fieldOf(() => assertOverrideInput({ percentage: -1 }, 'boolean'))).toBe('percentage');
    expect(fieldOf(() => assertOverrideInput({ percentage: NaN }, 'boolean'))).toBe('percentage');
    expect(fieldOf(() => assertOverrideInput({ percentage: '50' }, 'boolean'))).toBe('percentage');
    expect(fieldOf(() => assertOverrideInput({ value: 'x' }, 'number'))).toBe('value');
    expect(fieldOf(() => assertOverrideInput({ rules: {} }, 'boolean'))).toBe('rules');
    expect(fieldOf(() => assertOverrideInput({ rules: [rule(1, [], { rolloutPercentage: 200 })] }, 'boolean'))).toBe(
      'rules[0].rolloutPercentage',
    );
    expect(fieldOf(() => assertOverrideInput({ variants: [{ key: 'a', value: 'x', weight: -1 }] }, 'string'))).toBe(
      'variants[0].weight',
    );
    expect(fieldOf(() => assertOverrideInput({ reason: 5 }, 'boolean'))).toBe('reason');
  });

  it('assertRules names the rule and the field', () => {
    expect(fieldOf(() => assertRules(['x'], 'rules'))).toBe('rules[0]');
    expect(fieldOf(() => assertRules([{ ...rule(1, []), priority: 1.5 }], 'rules'))).toBe('rules[0].priority');
    expect(fieldOf(() => assertRules([rule(1, []), { ...rule(2, []), enabled: 'no' }], 'rules'))).toBe(
      'rules[1].enabled',
    );
    expect(fieldOf(() => assertRules([{ ...rule(1, []), serveEnabled: undefined }], 'rules'))).toBe(
      'rules[0].serveEnabled',
    );
    expect(fieldOf(() => assertRules([{ ...rule(1, []), conditions: null }], 'rules'))).toBe('rules[0].conditions');
    expect(fieldOf(() => assertRules([rule(1, [cond('a', 'eq', 1), cond('b', 'nope' as never, 1)])], 'x'))).toBe(
      'x[0].conditions[1]',
    );
  });

  it('assertVariants refuses duplicate keys, empty keys and bad weights', () => {
    expect(fieldOf(() => assertVariants({}, 'variants'))).toBe('variants');
    expect(
      fieldOf(() =>
        assertVariants(
          [
            { key: 'a', value: 1, weight: 1 },
            { key: 'a', value: 2, weight: 1 },
          ],
          'variants',
        ),
      ),
    ).toBe('variants[1].key');
    expect(fieldOf(() => assertVariants([{ key: '', value: 1, weight: 1 }], 'variants'))).toBe('variants[0].key');
    expect(fieldOf(() => assertVariants([{ key: 'a', value: 1, weight: Infinity }], 'variants'))).toBe(
      'variants[0].weight',
    );
    expect(fieldOf(() => assertVariants([null], 'variants'))).toBe('variants[0]');
  });

  it('assertEnvironmentInput checks slug, name, type, settings and isActive', () => {
    const good = {
      slug: 'staging',
      name: 'Staging',
      type: 'preproduction',
      settings: { defaultEnabled: true },
      isActive: true,
    };
    expect(assertEnvironmentInput(good)).toBeUndefined();
    expect(fieldOf(() => assertEnvironmentInput({ ...good, slug: 'Staging' }))).toBe('slug');
    expect(fieldOf(() => assertEnvironmentInput({ ...good, name: '  ' }))).toBe('name');
    expect(fieldOf(() => assertEnvironmentInput({ ...good, type: 'prod' }))).toBe('type');
    expect(fieldOf(() => assertEnvironmentInput({ ...good, settings: [] }))).toBe('settings');
    expect(fieldOf(() => assertEnvironmentInput({ ...good, settings: { defaultEnabled: 'on' } }))).toBe(
      'settings.defaultEnabled',
    );
    expect(fieldOf(() => assertEnvironmentInput({ ...good, isActive: 1 }))).toBe('isActive');
    expect(assertEnvironmentInput({ isActive: false }, true)).toBeUndefined();
  });

  it('assertSegmentInput checks the key and every condition', () => {
    expect(
      assertSegmentInput({ key: 'beta-users', conditions: [cond('email', 'ends_with', '@beta.io')] }),
    ).toBeUndefined();
    expect(fieldOf(() => assertSegmentInput({ key: 'Beta Users', conditions: [] }))).toBe('key');
    expect(fieldOf(() => assertSegmentInput({ key: 'beta', conditions: 'x' }))).toBe('conditions');
    expect(
      fieldOf(() => assertSegmentInput({ key: 'beta', conditions: [cond('e', 'eq', 'x'), cond('e', 'matches', '(')] })),
    ).toBe('conditions[1].value');
  });

  it('assertFlagKey / assertSlug / assertPercentage / assertValue use the field they are given', () => {
    expect(fieldOf(() => assertFlagKey('a b', 'flagKey'))).toBe('flagKey');
    expect(fieldOf(() => assertSlug('A', 'parent'))).toBe('parent');
    expect(fieldOf(() => assertSlug('s'.repeat(65)))).toBe('slug');
    expect(fieldOf(() => assertPercentage(100.01, 'rollout'))).toBe('rollout');
    expect(fieldOf(() => assertValue('boolean', 'true', 'v'))).toBe('v');
    expect(assertFlagKey('a.b_c:d-1')).toBeUndefined();
    expect(assertSlug('dev_1-a')).toBeUndefined();
    expect(assertPercentage(0, 'p')).toBeUndefined();
    expect(assertPercentage(100, 'p')).toBeUndefined();
    expect(assertPercentage(null, 'p')).toBeUndefined();
  });

  it('valueFitsType and typeOfValue', () => {
    expect(valueFitsType('boolean', false)).toBe(true);
    expect(valueFitsType('boolean', 0)).toBe(false);
    expect(valueFitsType('string', '')).toBe(true);
    expect(valueFitsType('number', NaN)).toBe(false);
    expect(valueFitsType('json', null)).toBe(true);
    expect(valueFitsType('json', undefined)).toBe(false);
    expect([true, 'x', 1, null, [1], { a: 1 }].map(typeOfValue)).toEqual([
      'boolean',
      'string',
      'number',
      'json',
      'json',
      'json',
    ]);
  });
});

describe("a boolean flag's details", () => {
  const keys = userKeys(200);
  const inside = keys.find((u) => rolloutBucket('b', u) < 5000)!;
  const outside = keys.find((u) => rolloutBucket('b', u) >= 5000)!;
  const make = (): FlagSnapshot =>
    single(flag('b', { rules: [rule(1, [cond('plan', 'eq', 'pro')])] }), { percentage: 50 });

  it('are shared, frozen, between calls decided the same way, and distinct for each way of deciding', () => {
    const s = make();
    const a = s.evaluate('b', 'prod', { targetingKey: inside }, false);
    expect(a).toStrictEqual({
      flagKey: 'b',
      value: true,
      enabled: true,
      reason: 'SPLIT',
      environment: 'prod',
      source: 'prod',
    });
    expect(Object.isFrozen(a)).toBe(true);
    expect(s.evaluate('b', 'prod', { targetingKey: inside, country: 'SE' }, true)).toBe(a);
    expect(s.evaluate('b', 'prod', { targetingKey: outside }, false)).toMatchObject({
      enabled: false,
      reason: 'SPLIT',
    });
    expect(s.evaluate('b', 'prod', { targetingKey: outside, plan: 'pro' }, false)).toMatchObject({
      enabled: true,
      reason: 'TARGETING_MATCH',
    });
    expect(s.evaluate('b', 'prod', {}, false)).toMatchObject({ reason: 'ERROR', errorCode: 'TARGETING_KEY_MISSING' });
    expect(s.evaluate('b', 'prod', { targetingKey: inside }, false)).toBe(a);
  });

  it('are built anew after a change to the flag', () => {
    const s = make();
    const before = s.evaluate('b', 'prod', { targetingKey: inside }, false);
    const f = s.getFlag('b')!;
    s.apply({ kind: 'flag', op: 'upsert', flag: { ...f, status: 'archived' } });
    expect(s.evaluate('b', 'prod', { targetingKey: inside }, false)).toMatchObject({
      enabled: false,
      reason: 'DISABLED',
    });
    expect(before).toMatchObject({ enabled: true, reason: 'SPLIT' });
  });
});
