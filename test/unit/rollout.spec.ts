import { FlagSnapshot, rolloutBucket, variantBucket } from '../../lib/core';
import { env, flag, override, snapshot, userKeys } from './fixtures';

/** One environment `prod`, one flag per key, each rolled out to the given percentage there. */
function rolledOut(percentages: Record<string, number | null>, extra: Parameters<typeof flag>[1] = {}): FlagSnapshot {
  const keys = Object.keys(percentages);
  return snapshot({
    environments: [env('prod')],
    flags: keys.map((k) => flag(k, extra)),
    overrides: keys.map((k) => override('prod', k, { enabled: true, percentage: percentages[k] })),
  });
}

const users = userKeys(10_000);

function onSet(s: FlagSnapshot, key: string, keys = users): Set<string> {
  return new Set(keys.filter((u) => s.isEnabled(key, 'prod', { targetingKey: u })));
}

describe('percentage rollout', () => {
  it('puts 25% ± 1.5% of 10,000 targeting keys in a 25% rollout', () => {
    const s = rolledOut({ f: 25 });
    const share = onSet(s, 'f').size / users.length;
    expect(share).toBeGreaterThan(0.235);
    expect(share).toBeLessThan(0.265);
  });

  it.each([1, 10, 50, 75, 90])('puts about %d%% of keys in a rollout of that percentage', (p) => {
    const s = rolledOut({ f: p });
    const share = (onSet(s, 'f').size / users.length) * 100;
    expect(Math.abs(share - p)).toBeLessThan(1.5);
  });

  it('is on exactly for the keys whose bucket is below the threshold', () => {
    const s = rolledOut({ 'new-checkout': 25 });
    const sample = users.slice(0, 2000);
    expect(sample.filter((u) => s.isEnabled('new-checkout', 'prod', { targetingKey: u }))).toEqual(
      sample.filter((u) => rolloutBucket('new-checkout', u) < 2500),
    );
  });

  it('is sticky: the same key gets the same result across calls and across new snapshots', () => {
    const first = rolledOut({ f: 30 });
    const again = onSet(first, 'f');
    expect(onSet(first, 'f')).toEqual(again);
    const second = rolledOut({ f: 30 });
    expect(onSet(second, 'f')).toEqual(again);
    // Warming a snapshot (compiling ahead) does not change anything either.
    const third = rolledOut({ f: 30 });
    third.warm();
    expect(onSet(third, 'f')).toEqual(again);
    // evaluate() and isEnabled() agree.
    for (const u of users.slice(0, 300)) {
      expect(first.evaluate('f', 'prod', { targetingKey: u }, false).enabled).toBe(again.has(u));
    }
  });

  it('is monotonic: raising the percentage never removes anyone', () => {
    const at5 = onSet(rolledOut({ f: 5 }), 'f');
    const at25 = onSet(rolledOut({ f: 25 }), 'f');
    const at50 = onSet(rolledOut({ f: 50 }), 'f');
    expect(at5.size).toBeGreaterThan(0);
    expect(at25.size).toBeGreaterThan(at5.size);
    expect(at50.size).toBeGreaterThan(at25.size);
    expect([...at5].filter((u) => !at25.has(u))).toEqual([]);
    expect([...at25].filter((u) => !at50.has(u))).toEqual([]);
  });

  it('buckets flags independently: two 50% flags overlap on about 25% of keys', () => {
    const s = rolledOut({ 'flag-a': 50, 'flag-b': 50 });
    const a = onSet(s, 'flag-a');
    const b = onSet(s, 'flag-b');
    const both = [...a].filter((u) => b.has(u)).length / users.length;
    expect(both).toBeGreaterThan(0.235);
    expect(both).toBeLessThan(0.265);
    expect(a).not.toEqual(b);
  });

  it('0% is off for everyone, with or without a targeting key', () => {
    const s = rolledOut({ f: 0 });
    expect(onSet(s, 'f').size).toBe(0);
    const details = s.evaluate('f', 'prod', {}, true);
    expect(details).toMatchObject({ enabled: false, value: false, reason: 'STATIC' });
    expect(details.errorCode).toBeUndefined();
  });

  it('100% is on for everyone, including a context without targeting key', () => {
    const s = rolledOut({ f: 100 });
    expect(onSet(s, 'f').size).toBe(users.length);
    expect(s.isEnabled('f', 'prod', {})).toBe(true);
    const details = s.evaluate('f', 'prod', {}, false);
    expect(details).toMatchObject({ enabled: true, value: true, reason: 'STATIC' });
    expect(details.errorCode).toBeUndefined();
  });

  it('a partial rollout without targeting key is off, with reason ERROR and TARGETING_KEY_MISSING', () => {
    const s = rolledOut({ f: 25 });
    for (const ctx of [{}, { targetingKey: '' }, { targetingKey: 42 as unknown as string }]) {
      const details = s.evaluate('f', 'prod', ctx, true);
      expect(details).toMatchObject({
        enabled: false,
        value: false,
        reason: 'ERROR',
        errorCode: 'TARGETING_KEY_MISSING',
      });
      expect(details.errorMessage).toContain('25%');
      expect(s.isEnabled('f', 'prod', ctx)).toBe(false);
    }
  });

  it('a partial rollout with a targeting key reports reason SPLIT, on or off', () => {
    const s = rolledOut({ f: 25 });
    const onUser = users.find((u) => rolloutBucket('f', u) < 2500)!;
    const offUser = users.find((u) => rolloutBucket('f', u) >= 2500)!;
    expect(s.evaluate('f', 'prod', { targetingKey: onUser }, false)).toMatchObject({
      enabled: true,
      value: true,
      reason: 'SPLIT',
      source: 'prod',
    });
    expect(s.evaluate('f', 'prod', { targetingKey: offUser }, true)).toMatchObject({
      enabled: false,
      value: false,
      reason: 'SPLIT',
      source: 'prod',
    });
  });

  it('a rollout percentage does not turn on a flag that is disabled', () => {
    const s = snapshot({
      environments: [env('prod')],
      flags: [flag('f')],
      overrides: [override('prod', 'f', { enabled: false, percentage: 100 })],
    });
    expect(s.evaluate('f', 'prod', { targetingKey: 'u' }, true)).toMatchObject({ enabled: false, reason: 'DISABLED' });
  });

  it('uses a fractional percentage with a 0.01 resolution', () => {
    const s = rolledOut({ f: 0.5 });
    const on = onSet(s, 'f');
    expect([...on].every((u) => rolloutBucket('f', u) < 50)).toBe(true);
    expect(users.filter((u) => rolloutBucket('f', u) < 50).length).toBe(on.size);
  });
});

describe('variants', () => {
  const variants = [
    { key: 'control', value: 'blue', weight: 1 },
    { key: 'treatment', value: 'green', weight: 3 },
  ];

  function variantSnapshot(percentage: number | null): FlagSnapshot {
    return snapshot({
      environments: [env('prod')],
      flags: [flag('button', { type: 'string', defaultValue: 'grey', variants })],
      overrides: [override('prod', 'button', { enabled: true, percentage })],
    });
  }

  it('distributes variants by relative weight (25% / 75%)', () => {
    const s = variantSnapshot(null);
    const counts: Record<string, number> = {};
    const wrongValue: string[] = [];
    for (const u of users) {
      const d = s.evaluate<string>('button', 'prod', { targetingKey: u }, 'none');
      counts[d.variant!] = (counts[d.variant!] ?? 0) + 1;
      if (d.value !== (d.variant === 'control' ? 'blue' : 'green')) wrongValue.push(u);
    }
    expect(wrongValue).toEqual([]);
    expect(Object.keys(counts).sort()).toEqual(['control', 'treatment']);
    expect(Math.abs(counts.control / users.length - 0.25)).toBeLessThan(0.015);
    expect(Math.abs(counts.treatment / users.length - 0.75)).toBeLessThan(0.015);
  });

  it('assigns the variant by the variant bucket, with reason SPLIT and the variants source', () => {
    const s = variantSnapshot(null);
    for (const u of users.slice(0, 300)) {
      const d = s.evaluate('button', 'prod', { targetingKey: u }, 'none');
      expect(d.variant).toBe(variantBucket('button', u) < 2500 ? 'control' : 'treatment');
      expect(d.reason).toBe('SPLIT');
      expect(d.source).toBe('base');
    }
  });

  it('is independent from rollout membership', () => {
    const half = variantSnapshot(50);
    const full = variantSnapshot(null);
    let inRollout = 0;
    let controlInRollout = 0;
    let controlOutOfRollout = 0;
    const inconsistent: string[] = [];
    for (const u of users) {
      const h = half.evaluate('button', 'prod', { targetingKey: u }, 'none');
      const f = full.evaluate('button', 'prod', { targetingKey: u }, 'none');
      if (h.enabled) {
        inRollout++;
        // Being in a partial rollout does not change which variant a key gets.
        if (h.variant !== f.variant) inconsistent.push(u);
        if (h.variant === 'control') controlInRollout++;
      } else {
        if (h.variant !== undefined || h.value !== 'none') inconsistent.push(u);
        if (f.variant === 'control') controlOutOfRollout++;
      }
    }
    expect(inconsistent).toEqual([]);
    expect(inRollout / users.length).toBeCloseTo(0.5, 1);
    // Inside and outside the rollout, the control share stays at its weight: membership does not predict the variant.
    expect(Math.abs(controlInRollout / inRollout - 0.25)).toBeLessThan(0.025);
    expect(Math.abs(controlOutOfRollout / (users.length - inRollout) - 0.25)).toBeLessThan(0.025);
  });

  it('serves the flag value without a variant when there is no targeting key', () => {
    const s = snapshot({
      environments: [env('prod')],
      flags: [flag('button', { type: 'string', defaultValue: 'grey', variants })],
    });
    const d = s.evaluate('button', 'prod', {}, 'none');
    expect(d).toMatchObject({ enabled: true, value: 'grey', reason: 'STATIC' });
    expect(d.variant).toBeUndefined();
  });

  it('ignores variants on boolean flags and variants whose weights add up to nothing', () => {
    const s = snapshot({
      flags: [
        flag('bool', { variants }),
        flag('zero', { type: 'string', defaultValue: 'grey', variants: [{ key: 'a', value: 'x', weight: 0 }] }),
      ],
    });
    expect(s.evaluate('bool', null, { targetingKey: 'u' }, false)).toMatchObject({ value: true, reason: 'STATIC' });
    expect(s.evaluate('bool', null, { targetingKey: 'u' }, false).variant).toBeUndefined();
    expect(s.evaluate('zero', null, { targetingKey: 'u' }, 'none')).toMatchObject({ value: 'grey', reason: 'STATIC' });
  });

  it('never assigns a zero-weight variant', () => {
    const s = snapshot({
      flags: [
        flag('v', {
          type: 'string',
          variants: [
            { key: 'a', value: 'A', weight: 1 },
            { key: 'never', value: 'N', weight: 0 },
            { key: 'b', value: 'B', weight: 1 },
          ],
        }),
      ],
    });
    const seen = new Set(users.slice(0, 2000).map((u) => s.evaluate('v', null, { targetingKey: u }, '').variant));
    expect([...seen].sort()).toEqual(['a', 'b']);
  });

  it('takes variants from the nearest environment that overrides them', () => {
    const s = snapshot({
      environments: [env('prod'), env('stage', 'prod')],
      flags: [flag('button', { type: 'string', variants })],
      overrides: [override('prod', 'button', { variants: [{ key: 'only', value: 'red', weight: 1 }] })],
    });
    expect(s.evaluate('button', 'stage', { targetingKey: 'u1' }, 'none')).toMatchObject({
      value: 'red',
      variant: 'only',
      source: 'prod',
    });
    expect(s.resolve(s.getFlag('button')!, 'stage').sources.variants).toBe('prod');
  });
});
