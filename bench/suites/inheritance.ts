/**
 * Section 2: inheritance is free at evaluation time. The section-1 workload evaluated in production (a
 * chain of one) and in an environment five levels deep that inherits every field through four ancestors.
 * Resolution happens when a flag is compiled for an environment, so the evaluation itself should cost the
 * same; the compile cost (paid once per flag and environment, and after a change) is shown beside it.
 */
import { FlagSnapshot } from '../../lib/core/snapshot';
import { EvaluationContext } from '../../lib/core/types';
import { bootOurLibrary } from '../contenders';
import { LoopContender, compareInterleaved } from '../harness/interleave';
import { collectGarbage, fmt, median, nsSince, percent, sig, times } from '../harness/stats';
import { Suite, SuiteOptions, SuiteResult } from '../harness/types';
import { alongSequence, evaluationSequence, workloadFlagKeys, workloadUsers } from '../workload';
import { EvaluationSizes, FULL_SIZES, QUICK_SIZES } from './evaluation';

/** Deep costs at most this much more than shallow (the rounds' noise on this machine is of that order). */
export const INHERITANCE_MAX_RATIO = 1.05;
const DEPTH = 5;

export async function runInheritance(options: SuiteOptions, sizes: EvaluationSizes): Promise<SuiteResult> {
  const keys = workloadFlagKeys();
  const users = workloadUsers();
  const seq = evaluationSequence(sizes.sequence, keys.length, users.length);
  const ours = await bootOurLibrary(keys, DEPTH);
  try {
    const [shallow, , , , deep] = ours.slugs;
    const n = seq.length;
    const snapshot = ours.snapshot;
    const service = ours.service;
    snapshot.warm();
    const plain = alongSequence(
      seq,
      keys,
      users.map((u): EvaluationContext => ({ targetingKey: u.id, country: u.country })),
    );
    const inShallow = alongSequence(
      seq,
      keys,
      users.map((u): EvaluationContext => ({ targetingKey: u.id, country: u.country, environment: shallow })),
    );
    const inDeep = alongSequence(
      seq,
      keys,
      users.map((u): EvaluationContext => ({ targetingKey: u.id, country: u.country, environment: deep })),
    );

    for (let i = 0; i < n; i++) {
      const a = snapshot.isEnabled(plain.keys[i], shallow, plain.contexts[i]);
      if (
        snapshot.isEnabled(plain.keys[i], deep, plain.contexts[i]) !== a ||
        service.isEnabled(inDeep.keys[i], inDeep.contexts[i]) !== a
      ) {
        return {
          status: 'aborted',
          reason: `${deep} and ${shallow} disagree on ${plain.keys[i]}`,
          tables: [],
          targets: [],
          data: {},
          notes: [],
        };
      }
    }

    const core =
      (slug: string) =>
      (passes: number): number => {
        const k = plain.keys;
        const c = plain.contexts;
        let on = 0;
        for (let p = 0; p < passes; p++) for (let i = 0; i < n; i++) if (snapshot.isEnabled(k[i], slug, c[i])) on++;
        return on;
      };
    const viaService =
      (ctx: { keys: string[]; contexts: EvaluationContext[] }) =>
      (passes: number): number => {
        const k = ctx.keys;
        const c = ctx.contexts;
        let on = 0;
        for (let p = 0; p < passes; p++) for (let i = 0; i < n; i++) if (service.isEnabled(k[i], c[i])) on++;
        return on;
      };
    const contenders: LoopContender[] = [
      { name: `core, ${shallow} (depth 1)`, run: core(shallow) },
      { name: `core, ${deep} (depth ${DEPTH})`, run: core(deep) },
      { name: `service, ${shallow} (depth 1)`, run: viaService(inShallow) },
      { name: `service, ${deep} (depth ${DEPTH})`, run: viaService(inDeep) },
    ];
    options.log(`inheritance: depth 1 vs ${DEPTH}, ${sizes.rounds} rounds`);
    const measured = compareInterleaved(contenders, {
      evaluationsPerPass: n,
      rounds: sizes.rounds,
      roundMs: sizes.roundMs,
      warmupPasses: sizes.warmupPasses,
      log: options.log,
    });

    // What inheritance does cost: compiling (resolving field by field) every flag for an environment.
    const data = await ours.storage.loadSnapshot();
    const compileRounds = sizes.rounds;
    const compileMs: Record<string, number[]> = { [shallow]: [], [deep]: [] };
    for (let r = 0; r < compileRounds; r++) {
      for (const slug of r % 2 === 0 ? [shallow, deep] : [deep, shallow]) {
        const fresh = new FlagSnapshot(data);
        collectGarbage();
        const start = process.hrtime.bigint();
        for (const key of keys) fresh.compiledFlag(key, slug);
        compileMs[slug].push(nsSince(start) / 1e6);
      }
    }

    const [cs, cd, ss, sd] = measured;
    const coreRatio = cd.nsPerEval / cs.nsPerEval;
    const serviceRatio = sd.nsPerEval / ss.nsPerEval;
    const compileShallow = median(compileMs[shallow]);
    const compileDeep = median(compileMs[deep]);
    return {
      status: 'ok',
      tables: [
        {
          title: `Evaluation in an environment 1 vs ${DEPTH} levels deep (${fmt(n)} evaluations per pass, median of ${sizes.rounds} interleaved rounds)`,
          columns: ['contender', 'ns/eval (median)', 'range over rounds', 'deep ÷ shallow', 'on-share'],
          rows: measured.map((m, i) => [
            m.name,
            fmt(m.nsPerEval, 1),
            `${fmt(Math.min(...m.rounds), 1)}–${fmt(Math.max(...m.rounds), 1)}`,
            i % 2 === 1 ? times(m.nsPerEval / measured[i - 1].nsPerEval, 3) : '',
            percent(m.onShare),
          ]),
        },
        {
          title: `Compiling ${fmt(keys.length)} flags for one environment (once per flag and environment, and after a change; median of ${compileRounds})`,
          columns: ['environment', 'ms', 'µs per flag'],
          rows: [
            [`${shallow} (depth 1)`, fmt(compileShallow, 2), fmt((compileShallow * 1000) / keys.length, 2)],
            [`${deep} (depth ${DEPTH})`, fmt(compileDeep, 2), fmt((compileDeep * 1000) / keys.length, 2)],
          ],
        },
      ],
      targets: [
        {
          name: `core: evaluation at depth ${DEPTH} vs depth 1`,
          target: `≤ ${INHERITANCE_MAX_RATIO}× (free)`,
          measured: `${times(coreRatio, 3)} (${fmt(cd.nsPerEval, 1)} / ${fmt(cs.nsPerEval, 1)} ns)`,
          ratio: sig(coreRatio),
          met: coreRatio <= INHERITANCE_MAX_RATIO,
        },
        {
          name: `FeatureFlagsService: evaluation at depth ${DEPTH} vs depth 1`,
          target: `≤ ${INHERITANCE_MAX_RATIO}× (free)`,
          measured: `${times(serviceRatio, 3)} (${fmt(sd.nsPerEval, 1)} / ${fmt(ss.nsPerEval, 1)} ns)`,
          ratio: sig(serviceRatio),
          met: serviceRatio <= INHERITANCE_MAX_RATIO,
        },
      ],
      data: {
        depth: DEPTH,
        sizes,
        contenders: measured,
        ratios: { core: coreRatio, service: serviceRatio },
        compileMs: {
          shallow: compileMs[shallow],
          deep: compileMs[deep],
          medianShallow: compileShallow,
          medianDeep: compileDeep,
        },
      },
      notes: [
        `${deep} overrides nothing: every field is inherited from production through ${DEPTH - 1} ancestors. The service contenders name the environment in the context (\`environment\`).`,
        'The issue sets no number for "free"; the bench counts within 5% (the spread between rounds is of that order) as free.',
      ],
    };
  } finally {
    await ours.close();
  }
}

export const inheritanceSuite: Suite = {
  id: 'inheritance',
  section: 2,
  title: 'Inheritance is free at evaluation time',
  run: (options) => runInheritance(options, options.quick ? QUICK_SIZES : FULL_SIZES),
};
