import {
  EnvironmentCycleError,
  EnvironmentDefinition,
  EnvironmentDepthError,
  FeatureFlagsError,
  MAX_ENVIRONMENT_DEPTH,
  NotFoundError,
  assertEnvironmentParent,
} from '../../lib/core';
import { env, flag, override, snapshot, standardEnvironments } from './fixtures';

/** A linear chain e0 ← e1 ← … ← e(n-1). */
function chain(n: number, prefix = 'e'): EnvironmentDefinition[] {
  return Array.from({ length: n }, (_, i) => env(`${prefix}${i}`, i === 0 ? null : `${prefix}${i - 1}`));
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('assertEnvironmentParent', () => {
  const envs = standardEnvironments();

  it('refuses a parent that would close a cycle, naming both slugs', () => {
    const e = thrown(() => assertEnvironmentParent(envs, 'production', 'env-production', 'env-development'));
    expect(e).toBeInstanceOf(EnvironmentCycleError);
    expect(e).toBeInstanceOf(FeatureFlagsError);
    const err = e as EnvironmentCycleError;
    expect(err.code).toBe('ENVIRONMENT_CYCLE');
    expect(err.name).toBe('EnvironmentCycleError');
    expect(err.slug).toBe('production');
    expect(err.parentSlug).toBe('development');
    expect(err.message).toContain('"production"');
    expect(err.message).toContain('"development"');
  });

  it('refuses a two-environment cycle', () => {
    const e = thrown(() =>
      assertEnvironmentParent(envs, 'staging', 'env-staging', 'env-development'),
    ) as EnvironmentCycleError;
    expect(e).toBeInstanceOf(EnvironmentCycleError);
    expect([e.slug, e.parentSlug]).toEqual(['staging', 'development']);
  });

  it('refuses self-parenting', () => {
    const e = thrown(() =>
      assertEnvironmentParent(envs, 'staging', 'env-staging', 'env-staging'),
    ) as EnvironmentCycleError;
    expect(e).toBeInstanceOf(EnvironmentCycleError);
    expect([e.slug, e.parentSlug]).toEqual(['staging', 'staging']);
    expect(e.message).toContain('"staging"');
  });

  it('refuses a parent that does not exist', () => {
    for (const id of [null, 'env-staging']) {
      const e = thrown(() => assertEnvironmentParent(envs, 'qa', id, 'env-nowhere')) as NotFoundError;
      expect(e).toBeInstanceOf(NotFoundError);
      expect(e.code).toBe('NOT_FOUND');
      expect(e.entity).toBe('environment');
      expect(e.identifier).toBe('env-nowhere');
    }
  });

  it('accepts a chain of exactly MAX_ENVIRONMENT_DEPTH environments and refuses one more', () => {
    expect(MAX_ENVIRONMENT_DEPTH).toBe(10);
    const nine = chain(9);
    // A 10th environment under e8: the chain holds 10 environments.
    expect(assertEnvironmentParent(nine, 'e9', null, 'env-e8')).toBeUndefined();
    const ten = chain(10);
    const e = thrown(() => assertEnvironmentParent(ten, 'e10', null, 'env-e9')) as EnvironmentDepthError;
    expect(e).toBeInstanceOf(EnvironmentDepthError);
    expect(e.code).toBe('ENVIRONMENT_TOO_DEEP');
    expect(e.slug).toBe('e10');
    expect(e.maxDepth).toBe(10);
    expect(e.message).toContain('"e10"');
    // Creating it higher up is fine.
    expect(assertEnvironmentParent(ten, 'e10', null, 'env-e3')).toBeUndefined();
  });

  it('honours a custom maxDepth', () => {
    const three = chain(3);
    expect(assertEnvironmentParent(three, 'x', null, 'env-e1', 3)).toBeUndefined();
    expect(thrown(() => assertEnvironmentParent(three, 'x', null, 'env-e2', 3))).toBeInstanceOf(EnvironmentDepthError);
  });

  it('refuses re-parenting a subtree that would become too deep', () => {
    // Main chain m0..m6 (7 deep) and a separate subtree s0 ← s1 ← s2 (height 3).
    const envs2 = [...chain(7, 'm'), ...chain(3, 's')];
    // Under m6: 7 + 3 = 10 environments, allowed.
    expect(assertEnvironmentParent(envs2, 's0', 'env-s0', 'env-m6')).toBeUndefined();
    // Under m6 with one more level in the subtree: 11, refused even though s0 itself would sit at depth 8.
    const envs3 = [...envs2, env('s3', 's2')];
    const e = thrown(() => assertEnvironmentParent(envs3, 's0', 'env-s0', 'env-m6')) as EnvironmentDepthError;
    expect(e).toBeInstanceOf(EnvironmentDepthError);
    expect(e.slug).toBe('s0');
    // A shallower parent works.
    expect(assertEnvironmentParent(envs3, 's0', 'env-s0', 'env-m5')).toBeUndefined();
  });

  it('measures the deepest branch of a subtree', () => {
    // s0 has a shallow branch (s0 ← a) and a deep one (s0 ← s1 ← s2 ← s3).
    const envs2 = [...chain(7, 'm'), ...chain(4, 's'), env('a', 's0')];
    expect(thrown(() => assertEnvironmentParent(envs2, 's0', 'env-s0', 'env-m6'))).toBeInstanceOf(
      EnvironmentDepthError,
    );
    expect(assertEnvironmentParent(envs2, 's0', 'env-s0', 'env-m5')).toBeUndefined();
  });

  it('checks the subtree height when an environment becomes a root', () => {
    const four = chain(4);
    expect(assertEnvironmentParent(four, 'e1', 'env-e1', null, 3)).toBeUndefined();
    expect(thrown(() => assertEnvironmentParent(four, 'e0', 'env-e0', null, 3))).toBeInstanceOf(EnvironmentDepthError);
  });

  it('terminates on corrupted data that already holds a cycle', () => {
    const corrupted = [env('x', 'y'), env('y', 'x')];
    expect(thrown(() => assertEnvironmentParent(corrupted, 'z', null, 'env-x'))).toBeInstanceOf(EnvironmentDepthError);
    expect(thrown(() => assertEnvironmentParent(corrupted, 'x', 'env-x', 'env-y'))).toBeInstanceOf(
      EnvironmentCycleError,
    );
  });
});

describe('getEnvironmentChain on corrupted data', () => {
  it('terminates on a cycle, visiting each environment once', () => {
    const s = snapshot({ environments: [env('a', 'c'), env('b', 'a'), env('c', 'b')] });
    expect(s.getEnvironmentChain('a').map((e) => e.slug)).toEqual(['a', 'c', 'b']);
    expect(s.getEnvironmentChain('b').map((e) => e.slug)).toEqual(['b', 'a', 'c']);
  });

  it('terminates on a self-parented environment', () => {
    const s = snapshot({ environments: [env('loop', 'loop')] });
    expect(s.getEnvironmentChain('loop').map((e) => e.slug)).toEqual(['loop']);
  });

  it('stops a chain that is too long at MAX_ENVIRONMENT_DEPTH', () => {
    const s = snapshot({ environments: chain(15) });
    const c = s.getEnvironmentChain('e14').map((e) => e.slug);
    expect(c).toHaveLength(MAX_ENVIRONMENT_DEPTH);
    expect(c[0]).toBe('e14');
    expect(c[9]).toBe('e5');
  });

  it('still evaluates flags in a cyclic chain (nearest override wins)', () => {
    const s = snapshot({
      environments: [env('a', 'b'), env('b', 'a')],
      flags: [flag('f', { defaultEnabled: false })],
      overrides: [override('b', 'f', { enabled: true })],
    });
    expect(s.evaluate('f', 'a', {}, false)).toMatchObject({ enabled: true, source: 'b' });
    expect(s.isEnabled('f', 'b', {})).toBe(true);
  });
});
