import { x86 } from 'murmurhash3js-revisited';
import { BUCKET_COUNT, murmur3, murmur3Bytes, percentageThreshold, rolloutBucket, variantBucket } from '../../lib/core';
import { prng } from './fixtures';

const encoder = new TextEncoder();
const reference = (s: string, seed = 0): number => x86.hash32(encoder.encode(s), seed) >>> 0;

describe('murmur3 (x86 32-bit over UTF-8)', () => {
  // Each vector was checked against murmurhash3js-revisited's x86.hash32 over the UTF-8 bytes (below, too).
  const vectors: Array<[string, number, number]> = [
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['test', 0, 0xba6bd213],
    ['Hello, world!', 0, 0xc0363e43],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
  ];

  it.each(vectors)('hashes %j with seed %d to the known vector', (input, seed, expected) => {
    expect(reference(input, seed)).toBe(expected);
    expect(murmur3(input, seed)).toBe(expected);
    expect(murmur3Bytes(encoder.encode(input), seed)).toBe(expected);
  });

  it('returns an unsigned 32-bit integer', () => {
    for (const s of ['a', 'b', 'test', 'flag:user-1', 'x'.repeat(33)]) {
      const h = murmur3(s);
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThanOrEqual(0xffffffff);
    }
  });

  it.each(Array.from({ length: 10 }, (_, n) => n))(
    'matches the reference for an ASCII string of length %d (every tail length)',
    (n) => {
      const s = 'abcdefghij'.slice(0, n);
      expect(s).toHaveLength(n);
      for (const seed of [0, 1, 42, 0x9747b28c]) {
        expect(murmur3(s, seed)).toBe(reference(s, seed));
        expect(murmur3Bytes(encoder.encode(s), seed)).toBe(reference(s, seed));
      }
    },
  );

  it.each([
    ['é', 'two-byte UTF-8'],
    ['café', 'non-ASCII in the tail'],
    ['éabc', 'non-ASCII in the first block'],
    ['abcdé', 'non-ASCII after a full ASCII block'],
    ['日本語', 'three-byte UTF-8'],
    ['日本語のテキスト', 'several CJK blocks'],
    ['😀', 'an emoji (surrogate pair)'],
    ['a😀b', 'an emoji between ASCII'],
    ['👩‍👩‍👧‍👦', 'a ZWJ emoji sequence'],
    ['\u007f', 'the last ASCII character'],
    ['\u0080', 'the first non-ASCII character'],
  ])('matches the reference over UTF-8 bytes for %j (%s)', (s) => {
    expect(murmur3(s)).toBe(reference(s));
    expect(murmur3(s, 7)).toBe(reference(s, 7));
  });

  it.each([
    ['\ud800', 'a lone high surrogate'],
    ['\udc00', 'a lone low surrogate'],
    ['ab\ud83dcd', 'a lone high surrogate inside ASCII'],
    ['abc\ude00', 'a lone low surrogate in the tail'],
  ])('hashes %j (%s) like its TextEncoder encoding (U+FFFD)', (s) => {
    const replaced = s.replace(/[\ud800-\udfff]/g, '\ufffd');
    expect(Array.from(encoder.encode(s))).toEqual(Array.from(encoder.encode(replaced)));
    expect(murmur3(s)).toBe(reference(replaced));
    expect(murmur3(s)).toBe(murmur3(replaced));
  });

  it('does not confuse a non-ASCII string with the ASCII string of the same code units modulo 256', () => {
    // 'ā' is U+0101: a naive charCodeAt & 0xff hash would treat it as U+0001.
    expect(murmur3('ā')).toBe(reference('ā'));
    expect(murmur3('ā')).not.toBe(murmur3('\u0001'));
  });

  it('matches the reference for thousands of random strings (ASCII, BMP, astral, lone surrogates)', () => {
    const random = prng(20240601);
    const pick = (): string => {
      const r = random();
      if (r < 0.5) return String.fromCharCode(0x20 + Math.floor(random() * 0x5f)); // printable ASCII
      if (r < 0.6) return String.fromCharCode(Math.floor(random() * 0x80)); // any ASCII incl. control
      if (r < 0.8) return String.fromCharCode(0x80 + Math.floor(random() * (0xd800 - 0x80))); // BMP below surrogates
      if (r < 0.9) return String.fromCodePoint(0x10000 + Math.floor(random() * 0x10000)); // astral (surrogate pair)
      if (r < 0.95) return String.fromCharCode(0xd800 + Math.floor(random() * 0x800)); // lone surrogate
      return String.fromCharCode(0xe000 + Math.floor(random() * 0x2000)); // BMP above surrogates
    };
    let nonAscii = 0;
    const mismatches: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const length = Math.floor(random() * 24);
      let s = '';
      for (let j = 0; j < length; j++) s += pick();
      if ([...s].some((c) => c.charCodeAt(0) > 0x7f)) nonAscii++;
      const seed = i % 3 === 0 ? 0 : Math.floor(random() * 0x100000000);
      const expected = x86.hash32(encoder.encode(s), seed) >>> 0;
      if (murmur3(s, seed) !== expected || murmur3Bytes(encoder.encode(s), seed) !== expected) {
        mismatches.push(`${JSON.stringify(s)} seed ${seed}`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(nonAscii).toBeGreaterThan(1000);
  });

  it('matches the reference for thousands of random ASCII strings (the fast path)', () => {
    const random = prng(7);
    const mismatches: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const length = Math.floor(random() * 40);
      let s = '';
      for (let j = 0; j < length; j++) s += String.fromCharCode(Math.floor(random() * 0x80));
      if (murmur3(s) !== reference(s)) mismatches.push(JSON.stringify(s));
    }
    expect(mismatches).toEqual([]);
  });
});

describe('buckets', () => {
  it('rolloutBucket is murmur3("<flag>:<user>") % 10000', () => {
    expect(BUCKET_COUNT).toBe(10_000);
    expect(rolloutBucket('flag', 'user')).toBe(murmur3('flag:user') % 10000);
    expect(rolloutBucket('flag', 'user')).toBe(reference('flag:user') % 10000);
    for (const [f, u] of [
      ['new-checkout', 'user-42'],
      ['ü', 'ß'],
      ['a', ''],
    ]) {
      expect(rolloutBucket(f, u)).toBe(reference(`${f}:${u}`) % 10000);
    }
  });

  it('keeps buckets in [0, 9999]', () => {
    const buckets = Array.from({ length: 2000 }, (_, i) => rolloutBucket('f', `u${i}`));
    expect(buckets.every((b) => Number.isInteger(b) && b >= 0 && b < 10000)).toBe(true);
    // They spread over the range rather than clustering.
    expect(Math.min(...buckets)).toBeLessThan(100);
    expect(Math.max(...buckets)).toBeGreaterThan(9900);
  });

  it('variantBucket hashes "<flag>:variant:<user>", apart from the rollout bucket', () => {
    expect(variantBucket('flag', 'user')).toBe(reference('flag:variant:user') % 10000);
    let same = 0;
    for (let i = 0; i < 1000; i++) if (variantBucket('f', `u${i}`) === rolloutBucket('f', `u${i}`)) same++;
    expect(same).toBeLessThan(5);
  });

  it('percentageThreshold has a resolution of 0.01%', () => {
    expect(percentageThreshold(0)).toBe(0);
    expect(percentageThreshold(25)).toBe(2500);
    expect(percentageThreshold(12.34)).toBe(1234);
    expect(percentageThreshold(0.01)).toBe(1);
    expect(percentageThreshold(100)).toBe(10000);
  });
});
