import fc from 'fast-check';
import { FeatureFlagsValidationError, FlagSnapshot } from '../../lib/core';
import { EvaluationContext, FlagRuleDefinition, FlagVariant } from '../../lib/core/types';
import { MemoryStorage } from '../../lib/storage/memory.storage';
import { planPromotion } from '../../lib/storage/promotion-plan';

/**
 * Issue 13, item 1: promotion (one flag, every flag) and cloning make the target serve exactly what the
 * source served, for every context, on random hierarchies, overrides and contexts; environments that
 * inherit from the target change only where they inherit a promoted field.
 */

const COUNTRIES = ['SE', 'NO', 'FR', 'DE'] as const;

const ruleArb = (type: 'boolean' | 'string'): fc.Arbitrary<FlagRuleDefinition> =>
  fc.record({
    priority: fc.integer({ min: 0, max: 3 }),
    enabled: fc.boolean(),
    conditions: fc
      .subarray([...COUNTRIES], { minLength: 1 })
      .map((value) => [{ attribute: 'country', operator: 'in' as const, value }]),
    serveEnabled: fc.boolean(),
    serveValue: type === 'string' ? fc.constantFrom(null, 'rule-a', 'rule-b') : fc.constant(null),
    rolloutPercentage: fc.constantFrom(null, 50),
  });

const variantsArb: fc.Arbitrary<FlagVariant[] | null> = fc.constantFrom<FlagVariant[] | null>(
  null,
  [],
  [{ key: 'v1', value: 'V1', weight: 1 }],
  [
    { key: 'a', value: 'A', weight: 1 },
    { key: 'b', value: 'B', weight: 3 },
  ],
);

const flagArb = fc.constantFrom('boolean' as const, 'string' as const).chain((type) =>
  fc.record({
    type: fc.constant(type),
    status: fc.constantFrom('active', 'active', 'active', 'inactive') as fc.Arbitrary<'active' | 'inactive'>,
    defaultEnabled: fc.boolean(),
    defaultValue: type === 'string' ? fc.constantFrom(null, 'base', 'other') : fc.constant(null),
    rules: fc.array(ruleArb(type), { maxLength: 2 }),
    variants: type === 'string' ? variantsArb : fc.constant(null),
  }),
);

const overrideArb = (type: 'boolean' | 'string') =>
  fc.record({
    enabled: fc.constantFrom(null, true, false),
    percentage: fc.constantFrom(null, 0, 30, 100),
    rules: fc.oneof(fc.constant(null), fc.array(ruleArb(type), { maxLength: 2 })),
    value: type === 'string' ? fc.constantFrom(null, 'env-x', 'env-y') : fc.constant(null),
    variants: type === 'string' ? variantsArb : fc.constant(null),
  });

/** A forest of 2–5 environments (each parent earlier in the list), flags, sparse overrides and two distinct environments. */
const worldArb = fc
  .record({
    parents: fc.array(fc.nat(), { minLength: 2, maxLength: 5 }),
    defaults: fc.array(fc.constantFrom(undefined, true, false), { minLength: 5, maxLength: 5 }),
    flags: fc.array(flagArb, { minLength: 1, maxLength: 3 }),
    seed: fc.nat(),
  })
  .chain((w) => {
    const n = w.parents.length;
    const parents = w.parents.map((p, i) => (i === 0 || p % (i + 1) === i ? null : p % i));
    return fc.record({
      parents: fc.constant(parents),
      defaults: fc.constant(w.defaults.slice(0, n)),
      flags: fc.constant(w.flags),
      overrides: fc.tuple(
        ...w.flags.map((f) => fc.array(fc.option(overrideArb(f.type), { freq: 2 }), { minLength: n, maxLength: n })),
      ),
      from: fc.nat({ max: n - 1 }),
      to: fc.nat({ max: n - 2 }),
      cloneParent: fc.integer({ min: -1, max: n - 1 }),
      countries: fc.array(fc.constantFrom(...COUNTRIES, undefined), { minLength: 24, maxLength: 24 }),
    });
  });

type World = typeof worldArb extends fc.Arbitrary<infer W> ? W : never;

const slugOf = (i: number): string => `env-${i}`;

async function build(world: World): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  await storage.init();
  const ids: string[] = [];
  for (let i = 0; i < world.parents.length; i++) {
    const parent = world.parents[i];
    const d = world.defaults[i];
    const env = await storage.createEnvironment({
      name: slugOf(i),
      slug: slugOf(i),
      parentId: parent === null ? null : ids[parent],
      settings: d === undefined ? {} : { defaultEnabled: d },
    });
    ids.push(env.id);
  }
  for (let f = 0; f < world.flags.length; f++) {
    const flag = await storage.createFlag({ key: `flag-${f}`, ...world.flags[f] });
    const overrides = (world.overrides as unknown as (Record<string, unknown> | null)[][])[f];
    for (let e = 0; e < overrides.length; e++) {
      const o = overrides[e];
      if (o)
        await storage.createOverride({
          environmentId: ids[e],
          flagId: flag.id,
          ...o,
          reason: `set in ${slugOf(e)}`,
        });
    }
  }
  return storage;
}

const contexts = (world: World): EvaluationContext[] =>
  world.countries.map((country, i) => ({ targetingKey: `user-${i}`, ...(country ? { country } : {}) }));

/** What an environment answers for every context: value, on/off, variant and reason. */
function answers(snapshot: FlagSnapshot, key: string, slug: string, ctxs: EvaluationContext[]): unknown[] {
  return ctxs.map((ctx) => {
    const d = snapshot.evaluate(key, slug, ctx, 'code-default');
    return { enabled: d.enabled, value: d.value, variant: d.variant ?? null, reason: d.reason };
  });
}

/** Slugs of the environments that inherit from `slug` (not itself). */
function descendantsOf(snapshot: FlagSnapshot, slug: string): string[] {
  return snapshot
    .listEnvironments()
    .filter((e) => e.slug !== slug && snapshot.getEnvironmentChain(e.slug).some((c) => c.slug === slug))
    .map((e) => e.slug);
}

/**
 * Checks a promotion into `to` that was computed from `before`: `to` answers as `from` did; environments
 * outside `to`'s subtree answer as before; in `to`'s subtree, a field an environment took from an override
 * between itself and `to` is unchanged, every other field now comes from `to`.
 */
function expectServedEquality(
  before: FlagSnapshot,
  after: FlagSnapshot,
  from: string,
  to: string,
  keys: string[],
  ctxs: EvaluationContext[],
): void {
  const below = descendantsOf(before, to);
  for (const key of keys) {
    expect({ key, to, answers: answers(after, key, to, ctxs) }).toEqual({
      key,
      to,
      answers: answers(before, key, from, ctxs),
    });
    for (const env of before.listEnvironments()) {
      if (env.slug === to) continue;
      if (!below.includes(env.slug)) {
        expect({ key, env: env.slug, answers: answers(after, key, env.slug, ctxs) }).toEqual({
          key,
          env: env.slug,
          answers: answers(before, key, env.slug, ctxs),
        });
        continue;
      }
      const chain = before.getEnvironmentChain(env.slug).map((e) => e.slug);
      const nearer = new Set(chain.slice(0, chain.indexOf(to)));
      const r0 = before.resolve(before.getFlag(key)!, env.slug);
      const r1 = after.resolve(after.getFlag(key)!, env.slug);
      const target = after.resolve(after.getFlag(key)!, to);
      for (const field of ['enabled', 'percentage', 'rules', 'value', 'variants'] as const) {
        if (nearer.has(r0.sources[field])) {
          expect({ key, env: env.slug, field, value: r1[field], source: r1.sources[field] }).toEqual({
            key,
            env: env.slug,
            field,
            value: r0[field],
            source: r0.sources[field],
          });
        } else if (field !== 'value' || target.sources.value === to) {
          expect({ key, env: env.slug, field, value: r1[field], source: r1.sources[field] }).toEqual({
            key,
            env: env.slug,
            field,
            value: target[field],
            source: to,
          });
        }
      }
    }
  }
}

const RUNS = { numRuns: 150, seed: Number(process.env.FAST_CHECK_SEED ?? 1313) } as const;

describe('promotion and cloning serve what the source served (property-based)', () => {
  it('promoteFlag: for each flag the source overrides, the target answers every context as the source did', async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async (world) => {
        const storage = await build(world);
        const from = slugOf(world.from);
        const to = slugOf(world.to >= world.from ? world.to + 1 : world.to);
        const ctxs = contexts(world);
        for (let f = 0; f < world.flags.length; f++) {
          const key = `flag-${f}`;
          const before = new FlagSnapshot(await storage.loadSnapshot());
          const sourceEnv = before.getEnvironment(from)!;
          if (!before.getOverride(sourceEnv.id, before.getFlag(key)!.id)) {
            await expect(planPromotion(storage, from, to, { flags: [key] })).rejects.toMatchObject({
              code: 'NOTHING_TO_PROMOTE',
            });
            continue;
          }
          let plan;
          try {
            plan = await planPromotion(storage, from, to, { flags: [key] });
          } catch (e) {
            // The one case an override cannot express: `from` serves no value, `to` would inherit one.
            expect(e).toBeInstanceOf(FeatureFlagsValidationError);
            expect((e as FeatureFlagsValidationError).field).toBe('value');
            continue;
          }
          await storage.writeAll(plan.writes);
          const after = new FlagSnapshot(await storage.loadSnapshot());
          expectServedEquality(before, after, from, to, [key], ctxs);
          // The preview lists exactly the environments whose answers changed, with before → after.
          const changedEnvs = before
            .listEnvironments()
            .map((e) => e.slug)
            .filter(
              (slug) =>
                JSON.stringify(answers(before, key, slug, ctxs)) !== JSON.stringify(answers(after, key, slug, ctxs)),
            );
          const previewed = plan.results[0].served.map((s) => s.environment);
          for (const slug of changedEnvs) expect(previewed).toContain(slug);
          for (const s of plan.results[0].served) {
            expect(s.after).toMatchObject({
              enabled: after.resolve(after.getFlag(key)!, s.environment).enabled,
              sources: after.resolve(after.getFlag(key)!, s.environment).sources,
            });
            expect(s.before.sources).toEqual(before.resolve(before.getFlag(key)!, s.environment).sources);
          }
          // Promoting again changes nothing.
          const again = await planPromotion(storage, from, to, { flags: [key] });
          expect(again.writes).toEqual([]);
          expect(again.results[0]).toMatchObject({ changed: false, served: [] });
        }
      }),
      RUNS,
    );
  });

  it('promoteAllFlags: afterwards the target answers every flag, every context, as the source did', async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async (world) => {
        const storage = await build(world);
        const from = slugOf(world.from);
        const to = slugOf(world.to >= world.from ? world.to + 1 : world.to);
        const ctxs = contexts(world);
        const before = new FlagSnapshot(await storage.loadSnapshot());
        let plan;
        try {
          plan = await planPromotion(storage, from, to);
        } catch (e) {
          expect((e as FeatureFlagsValidationError).field).toBe('value');
          return;
        }
        await storage.writeAll(plan.writes);
        const after = new FlagSnapshot(await storage.loadSnapshot());
        const keys = world.flags.map((_f, i) => `flag-${i}`);
        for (const key of keys)
          expect({ key, answers: answers(after, key, to, ctxs) }).toEqual({
            key,
            answers: answers(before, key, from, ctxs),
          });
        // The flags it wrote follow the rules of one promotion; the others changed nowhere.
        const written = plan.results.filter((r) => r.changed).map((r) => r.flagKey);
        expectServedEquality(before, after, from, to, written, ctxs);
        for (const key of keys.filter((k) => !written.includes(k))) {
          for (const env of before.listEnvironments())
            expect(answers(after, key, env.slug, ctxs)).toEqual(answers(before, key, env.slug, ctxs));
        }
      }),
      RUNS,
    );
  });

  it('cloneEnvironment: the clone answers every flag, every context, as its source, whatever its parent; nothing else changes', async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async (world) => {
        const storage = await build(world);
        const from = slugOf(world.from);
        const ctxs = contexts(world);
        const before = new FlagSnapshot(await storage.loadSnapshot());
        const parent = world.cloneParent < 0 ? null : before.getEnvironment(slugOf(world.cloneParent))!.id;
        try {
          await storage.cloneEnvironment(from, { name: 'Clone', slug: 'clone', parentId: parent });
        } catch (e) {
          expect((e as FeatureFlagsValidationError).field).toBe('value');
          expect(await storage.getEnvironment('clone')).toBeNull();
          return;
        }
        const after = new FlagSnapshot(await storage.loadSnapshot());
        for (let f = 0; f < world.flags.length; f++) {
          const key = `flag-${f}`;
          expect(answers(after, key, 'clone', ctxs)).toEqual(answers(before, key, from, ctxs));
          for (const env of before.listEnvironments())
            expect(answers(after, key, env.slug, ctxs)).toEqual(answers(before, key, env.slug, ctxs));
        }
      }),
      RUNS,
    );
  });
});
