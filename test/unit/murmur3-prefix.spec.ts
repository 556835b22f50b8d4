import {
  murmur3,
  murmur3Prefix,
  murmur3WithPrefix,
  rolloutBucket,
  rolloutBucketOf,
  rolloutPrefix,
} from '../../lib/core';
import { prng } from './fixtures';

/** The evaluator buckets from a per-flag precomputed hash state: it must equal hashing the concatenation. */
describe('murmur3WithPrefix (hashing "<prefix><suffix>" from the prefix\'s precomputed state)', () => {
  const samples = [
    '',
    'a',
    'ab',
    'abc',
    'abcd',
    'abcde',
    'user-1',
    'user-12345',
    'x'.repeat(17),
    'ünïcödé',
    'a😀b',
    '\u0080',
    'ab\u00ff',
    'abcd\u0100',
  ];

  it('equals murmur3 of the concatenation for every prefix and suffix length, ASCII or not', () => {
    for (const prefix of samples) {
      for (const seed of [0, 1, 0x9747b28c]) {
        const state = murmur3Prefix(prefix, seed);
        for (const suffix of samples) expect(murmur3WithPrefix(state, suffix)).toBe(murmur3(prefix + suffix, seed));
      }
    }
  });

  it('equals murmur3 of the concatenation on random strings', () => {
    const random = prng(7);
    const text = (n: number): string =>
      Array.from({ length: n }, () =>
        random() < 0.9
          ? String.fromCharCode(32 + Math.floor(random() * 95))
          : String.fromCharCode(128 + Math.floor(random() * 2000)),
      ).join('');
    for (let i = 0; i < 2000; i++) {
      const prefix = text(Math.floor(random() * 12));
      const suffix = text(Math.floor(random() * 20));
      expect(murmur3WithPrefix(murmur3Prefix(prefix), suffix)).toBe(murmur3(prefix + suffix));
    }
  });

  it('gives the documented rollout bucket', () => {
    for (const flag of ['f', 'new-checkout', 'flag-0001', 'ä-flag']) {
      const state = rolloutPrefix(flag);
      for (const user of ['', 'u', 'user-1', 'user-123456789', 'jöhn'])
        expect(rolloutBucketOf(state, user)).toBe(rolloutBucket(flag, user));
    }
  });
});
