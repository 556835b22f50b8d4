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

/**
 * MurmurHash3 state after a fixed ASCII prefix: the blocks of the prefix already mixed, and its last
 * 0–3 bytes pending. Built once (per compiled flag), it lets `murmur3WithPrefix` hash `prefix + suffix`
 * while reading only the suffix, with no string concatenation.
 */
export interface Murmur3Prefix {
  readonly text: string;
  /** False when the prefix is not ASCII: `murmur3WithPrefix` then hashes the concatenation. */
  readonly ascii: boolean;
  readonly seed: number;
  /** Hash state after the prefix's whole 4-byte blocks. */
  readonly h: number;
  /** The prefix's last `pending` bytes, little-endian. */
  readonly tail: number;
  readonly pending: number;
}

/** Precomputes the hash state of `prefix` for `murmur3WithPrefix`. */
export function murmur3Prefix(prefix: string, seed = 0): Murmur3Prefix {
  const n = prefix.length;
  let ascii = true;
  for (let i = 0; i < n; i++) if (prefix.charCodeAt(i) >= 0x80) ascii = false;
  const blocks = n & ~3;
  let h = seed | 0;
  let tail = 0;
  if (ascii) {
    for (let i = 0; i < blocks; i += 4) {
      h = mixH(
        h,
        prefix.charCodeAt(i) |
          (prefix.charCodeAt(i + 1) << 8) |
          (prefix.charCodeAt(i + 2) << 16) |
          (prefix.charCodeAt(i + 3) << 24),
      );
    }
    for (let i = blocks; i < n; i++) tail |= prefix.charCodeAt(i) << ((i - blocks) * 8);
  }
  return { text: prefix, ascii, seed, h, tail, pending: n - blocks };
}

/** `murmur3(prefix.text + suffix, prefix.seed)`, reading only `suffix`. */
export function murmur3WithPrefix(prefix: Murmur3Prefix, suffix: string): number {
  if (!prefix.ascii) return murmur3(prefix.text + suffix, prefix.seed);
  const n = suffix.length;
  let h = prefix.h;
  let i = 0;
  if (prefix.pending > 0) {
    // Complete the block the prefix left open with the suffix's first bytes.
    let k = prefix.tail;
    let shift = prefix.pending * 8;
    for (; shift < 32 && i < n; i++, shift += 8) {
      const c = suffix.charCodeAt(i);
      if (c >= 0x80) return murmur3(prefix.text + suffix, prefix.seed);
      k |= c << shift;
    }
    if (shift < 32) {
      // The suffix ended inside that block: it is the tail.
      h ^= mixK(k);
      return finalize(h, prefix.text.length + n);
    }
    h = mixH(h, k);
  }
  const blocks = i + ((n - i) & ~3);
  for (; i < blocks; i += 4) {
    const c0 = suffix.charCodeAt(i);
    const c1 = suffix.charCodeAt(i + 1);
    const c2 = suffix.charCodeAt(i + 2);
    const c3 = suffix.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) return murmur3(prefix.text + suffix, prefix.seed);
    h = mixH(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  if (i < n) {
    let k = 0;
    for (let shift = 0; i < n; i++, shift += 8) {
      const c = suffix.charCodeAt(i);
      if (c >= 0x80) return murmur3(prefix.text + suffix, prefix.seed);
      k |= c << shift;
    }
    h ^= mixK(k);
  }
  return finalize(h, prefix.text.length + n);
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

/** The hash state of a flag's rollout prefix `"<flagKey>:"`, for `rolloutBucketOf`. */
export function rolloutPrefix(flagKey: string): Murmur3Prefix {
  return murmur3Prefix(flagKey + ':');
}

/** `rolloutBucket(flagKey, targetingKey)` from the flag's precomputed `rolloutPrefix(flagKey)`. */
export function rolloutBucketOf(prefix: Murmur3Prefix, targetingKey: string): number {
  return murmur3WithPrefix(prefix, targetingKey) % BUCKET_COUNT;
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
