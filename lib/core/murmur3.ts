/**
 * MurmurHash3, x86 32-bit variant, over the UTF-8 bytes of a string.
 *
 * Written out here rather than taken from a package because the hot path (every percentage rollout)
 * hashes short ASCII strings, and doing that straight from `charCodeAt` avoids encoding the string into a
 * byte buffer on every call. Non-ASCII strings are encoded with `TextEncoder` (UTF-8, lone surrogates as
 * U+FFFD) and hashed byte-wise, so the result always equals MurmurHash3 of the UTF-8 bytes.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const encoder = new TextEncoder();

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finalize(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86 32-bit of a byte array. */
export function murmur3Bytes(bytes: Uint8Array, seed = 0): number {
  const n = bytes.length;
  const blocks = n & ~3;
  let h = seed | 0;
  let i = 0;
  for (; i < blocks; i += 4) {
    h = mixH(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  }
  let k = 0;
  switch (n & 3) {
    case 3:
      k ^= bytes[i + 2] << 16;
    // falls through
    case 2:
      k ^= bytes[i + 1] << 8;
    // falls through
    case 1:
      k ^= bytes[i];
      h ^= mixK(k);
  }
  return finalize(h, n);
}

/** MurmurHash3 x86 32-bit of the UTF-8 encoding of `key`, as an unsigned 32-bit integer. */
export function murmur3(key: string, seed = 0): number {
  const n = key.length;
  const blocks = n & ~3;
  let h = seed | 0;
  let i = 0;
  for (; i < blocks; i += 4) {
    const c0 = key.charCodeAt(i);
    const c1 = key.charCodeAt(i + 1);
    const c2 = key.charCodeAt(i + 2);
    const c3 = key.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) return murmur3Bytes(encoder.encode(key), seed);
    h = mixH(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  let k = 0;
  switch (n & 3) {
    case 3: {
      const c2 = key.charCodeAt(i + 2);
      if (c2 >= 0x80) return murmur3Bytes(encoder.encode(key), seed);
      k ^= c2 << 16;
    }
    // falls through
    case 2: {
      const c1 = key.charCodeAt(i + 1);
      if (c1 >= 0x80) return murmur3Bytes(encoder.encode(key), seed);
      k ^= c1 << 8;
    }
    // falls through
    case 1: {
      const c0 = key.charCodeAt(i);
      if (c0 >= 0x80) return murmur3Bytes(encoder.encode(key), seed);
      k ^= c0;
      h ^= mixK(k);
    }
  }
  return finalize(h, n);
}

/** Buckets per 100%: a percentage has a resolution of 0.01. */
export const BUCKET_COUNT = 10_000;

/**
 * The rollout bucket of a subject for a flag: `murmur3("<flagKey>:<targetingKey>") % 10000`, in
 * [0, 9999]. A subject is inside a rollout of `p` percent iff `bucket < round(p * 100)`, so raising the
 * percentage never removes anyone, and different flags bucket independently.
 */
export function rolloutBucket(flagKey: string, targetingKey: string): number {
  return murmur3(flagKey + ':' + targetingKey) % BUCKET_COUNT;
}

/** The bucket threshold of a percentage: a subject is in when its bucket is below it. */
export function percentageThreshold(percentage: number): number {
  return Math.round(percentage * 100);
}

/**
 * The variant bucket of a subject, hashed apart from the rollout bucket (`"<flagKey>:variant:<key>"`)
 * so that who is in a partial rollout does not decide which variant they get.
 */
export function variantBucket(flagKey: string, targetingKey: string): number {
  return murmur3(flagKey + ':variant:' + targetingKey) % BUCKET_COUNT;
}
