/**
 * The evaluation workload of sections 1 and 2, written once and translated into each contender's own
 * configuration format: N boolean flags, each on for 25% (sticky) of the users whose country is SE, NO or
 * DK and off for everyone else; 1,024 distinct users, half of them Nordic. Every contender should find
 * the same on-share, 0.5 × 25% = 12.5%.
 */
import type { FeatureFlagStorage } from '../lib/storage/feature-flag-storage.interface';

export const NORDIC = ['SE', 'NO', 'DK'] as const;
const OTHER = ['DE', 'FR', 'GB', 'US', 'ES'] as const;

/** The workload's fixed parameters. */
export const WORKLOAD = {
  flags: 1000,
  users: 1024,
  rolloutPercent: 25,
  nordicShare: 0.5,
  /** nordicShare × rolloutPercent: what every contender must find. */
  expectedOnShare: 0.125,
  /** A contender whose on-share is further than this from the expected one (in points) aborts the section. */
  onShareTolerancePoints: 1.5,
} as const;

/** A user of the workload. */
export interface BenchUser {
  id: string;
  country: string;
}

/** `count` users: even indexes are Nordic (SE, NO, DK in turn), odd ones are not. */
export function workloadUsers(count: number = WORKLOAD.users): BenchUser[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `user-${i}`,
    country: i % 2 === 0 ? NORDIC[(i >> 1) % NORDIC.length] : OTHER[(i >> 1) % OTHER.length],
  }));
}

/** The flag keys. */
export function workloadFlagKeys(count: number = WORKLOAD.flags): string[] {
  return Array.from({ length: count }, (_, i) => `flag-${String(i).padStart(4, '0')}`);
}

/**
 * The order of evaluations, identical for every contender: evaluation i asks flag i mod F for user
 * i mod U. With 1,000 flags and 1,024 users the pairs repeat only after lcm(1000, 1024) = 128,000, so a
 * pass of up to 128,000 evaluations never asks the same pair twice.
 */
export interface EvaluationSequence {
  length: number;
  flagIndex: Uint16Array;
  userIndex: Uint16Array;
}

export function evaluationSequence(length: number, flags: number, users: number): EvaluationSequence {
  const flagIndex = new Uint16Array(length);
  const userIndex = new Uint16Array(length);
  for (let i = 0; i < length; i++) {
    flagIndex[i] = i % flags;
    userIndex[i] = i % users;
  }
  return { length, flagIndex, userIndex };
}

/** Lays out a per-flag and a per-user array along the sequence (so that every loop reads two arrays). */
export function alongSequence<K, C>(
  seq: EvaluationSequence,
  keys: readonly K[],
  contexts: readonly C[],
): { keys: K[]; contexts: C[] } {
  const k = new Array<K>(seq.length);
  const c = new Array<C>(seq.length);
  for (let i = 0; i < seq.length; i++) {
    k[i] = keys[seq.flagIndex[i]];
    c[i] = contexts[seq.userIndex[i]];
  }
  return { keys: k, contexts: c };
}

/** The rule every flag carries, in this library's terms. */
export const NORDIC_RULE = {
  priority: 0,
  conditions: [{ attribute: 'country', operator: 'in' as const, value: [...NORDIC] }],
  serveEnabled: true,
  rolloutPercentage: WORKLOAD.rolloutPercent,
};

/** Environment slugs of a chain `depth` long, root first: production ← level-2 ← … ← level-<depth>. */
export function chainSlugs(depth: number): string[] {
  return Array.from({ length: depth }, (_, i) => (i === 0 ? 'production' : `level-${i + 1}`));
}

/**
 * Writes the workload through the storage API, as an application would: the environments of a chain
 * `depth` long, and the flags, each with the Nordic rule and a production override that enables it with
 * a 0% rollout for everyone the rule does not match. Environments below production override nothing:
 * they inherit every field. Returns the slugs, root first.
 */
export async function writeWorkload(
  storage: FeatureFlagStorage,
  keys: readonly string[],
  depth = 1,
): Promise<string[]> {
  const slugs = chainSlugs(depth);
  let parentId: string | null = null;
  let productionId = '';
  for (const slug of slugs) {
    const env = await storage.createEnvironment({
      slug,
      name: slug,
      parentId,
      type: slug === 'production' ? 'production' : 'development',
    });
    if (slug === 'production') productionId = env.id;
    parentId = env.id;
  }
  for (const key of keys) {
    const flag = await storage.createFlag({ key, name: key, type: 'boolean', rules: [NORDIC_RULE] });
    await storage.createOverride({
      environmentId: productionId,
      flagId: flag.id,
      enabled: true,
      percentage: 0,
      reason: 'on for 25% of Nordic users only',
    });
  }
  return slugs;
}

/**
 * The workload as unleash-client bootstrap data: a flexibleRollout strategy at 25% (default stickiness:
 * userId) constrained to `country IN [SE, NO, DK]`.
 */
export function unleashFeatures(keys: readonly string[]): unknown[] {
  return keys.map((name) => ({
    name,
    type: 'release',
    project: 'default',
    enabled: true,
    stale: false,
    impressionData: false,
    variants: [],
    strategies: [
      {
        name: 'flexibleRollout',
        parameters: { rollout: String(WORKLOAD.rolloutPercent), stickiness: 'default', groupId: name },
        constraints: [
          { contextName: 'country', operator: 'IN', values: [...NORDIC], caseInsensitive: false, inverted: false },
        ],
      },
    ],
  }));
}

/**
 * The workload as a flagd flag configuration (for @openfeature/flagd-core, the evaluator of flagd and its
 * in-process providers): off by default; for a Nordic country, `fractional` buckets the user (MurmurHash3 of
 * flag key and targeting key) into 25% on.
 */
export function flagdConfiguration(keys: readonly string[]): string {
  const flags: Record<string, unknown> = {};
  for (const key of keys) {
    flags[key] = {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: {
        if: [
          { in: [{ var: 'country' }, [...NORDIC]] },
          {
            fractional: [
              ['on', WORKLOAD.rolloutPercent],
              ['off', 100 - WORKLOAD.rolloutPercent],
            ],
          },
          'off',
        ],
      },
    };
  }
  return JSON.stringify({ flags });
}

/** The workload as a GrowthBook payload: off by default, forced on for 25% coverage of Nordic users. */
export function growthbookFeatures(keys: readonly string[]): Record<string, unknown> {
  const features: Record<string, unknown> = {};
  for (const key of keys) {
    features[key] = {
      defaultValue: false,
      rules: [
        {
          condition: { country: { $in: [...NORDIC] } },
          force: true,
          coverage: WORKLOAD.rolloutPercent / 100,
          hashAttribute: 'id',
        },
      ],
    };
  }
  return features;
}
