/**
 * Section 1: evaluation throughput against peers. The same 1,000 flags × 1,024 users for every contender;
 * the floor is the least work that gives the same answers (a Map lookup, a Set test, MurmurHash3).
 */
import { EvaluationContext } from '../../lib/core/types';
import { murmur3 } from '../../lib/core/murmur3';
import { RequestStateService, runWithRequestState } from '../../lib/environment/request-state';
import { bootOurLibrary, startFlagd, startGrowthBook, startUnleash } from '../contenders';
import { EvaluationContext as OpenFeatureContext, OpenFeature } from '@openfeature/server-sdk';
import { FeatureFlagsProvider } from '../../lib/openfeature/feature-flags.provider';
import {
  AsyncLoopContender,
  ContenderMeasurement,
  LoopContender,
  compareInterleaved,
  compareInterleavedAsync,
  pairedRatio,
} from '../harness/interleave';
import { fmt, percent, sig, times } from '../harness/stats';
import { Suite, SuiteOptions, SuiteResult, TargetResult } from '../harness/types';
import {
  BenchUser,
  NORDIC,
  WORKLOAD,
  alongSequence,
  evaluationSequence,
  workloadFlagKeys,
  workloadUsers,
} from '../workload';

/** Sizes of a run; tests pass smaller ones. */
export interface EvaluationSizes {
  /** Evaluations per pass (≤ 128,000 for distinct pairs). */
  sequence: number;
  rounds: number;
  roundMs: number;
  warmupPasses: number;
}

export const FULL_SIZES: EvaluationSizes = { sequence: 128_000, rounds: 9, roundMs: 250, warmupPasses: 5 };
export const QUICK_SIZES: EvaluationSizes = { sequence: 32_000, rounds: 3, roundMs: 20, warmupPasses: 2 };

/** Contender names, in display order. */
export const CONTENDERS = {
  floor: 'floor (Map + Set + murmur3)',
  core: 'FlagSnapshot.isEnabled (core)',
  service: 'FeatureFlagsService.isEnabled',
  serviceInRequest: 'FeatureFlagsService.isEnabled in a request',
  unleash: 'unleash-client isEnabled',
  growthbook: 'GrowthBookClient isOn',
  flagd: '@openfeature/flagd-core resolveBooleanEvaluation',
} as const;

/** The OpenFeature comparison's contenders (awaited one by one, as OpenFeature evaluates). */
export const OPENFEATURE_CONTENDERS = {
  serviceIsEnabled: 'FeatureFlagsService.isEnabled',
  serviceEvaluate: 'FeatureFlagsService.evaluate (details)',
  serviceEvaluateAwaited: 'FeatureFlagsService.evaluate, each awaited',
  providerSync: 'FeatureFlagsProvider.resolve (its work, no promise)',
  provider: 'FeatureFlagsProvider.resolveBooleanEvaluation (awaited)',
  client: 'OpenFeature client.getBooleanValue (awaited, server-sdk)',
} as const;

/** Limits from the issues. */
export const EVALUATION_TARGETS = {
  maxNs: 150,
  maxFloorRatio: 2,
  minPeerSpeedup: 8,
  maxProviderRatio: 2,
  maxDetailsRatio: 1.2,
} as const;

const BUCKETS = 10_000;

/** Runs section 1 with the given sizes (the suite uses FULL_SIZES or QUICK_SIZES). */
export async function runEvaluation(options: SuiteOptions, sizes: EvaluationSizes): Promise<SuiteResult> {
  const keys = workloadFlagKeys();
  const users = workloadUsers();
  const seq = evaluationSequence(sizes.sequence, keys.length, users.length);

  const ours = await bootOurLibrary(keys);
  const unleash = await startUnleash(keys);
  const growthbook = startGrowthBook(keys);
  const flagd = startFlagd(keys);
  try {
    // Each contender's own context objects, built once: nobody allocates in the timed loop.
    const ourCtx = alongSequence(
      seq,
      keys,
      users.map((u): EvaluationContext => ({ targetingKey: u.id, country: u.country })),
    );
    const floorCtx = alongSequence(
      seq,
      keys,
      users.map((u): BenchUser => ({ id: u.id, country: u.country })),
    );
    const unleashCtx = alongSequence(
      seq,
      keys,
      users.map((u) => ({ userId: u.id, properties: { country: u.country } })),
    );
    const gbCtx = alongSequence(
      seq,
      keys,
      users.map((u) => ({ attributes: { id: u.id, country: u.country } })),
    );
    const flagdCtx = alongSequence(
      seq,
      keys,
      users.map((u) => ({ targetingKey: u.id, country: u.country })),
    );
    const n = seq.length;

    const floorFlags = new Map(
      keys.map((k) => [k, { countries: new Set<string>(NORDIC), threshold: WORKLOAD.rolloutPercent * 100 }]),
    );
    const floorAnswer = (key: string, u: BenchUser): boolean => {
      const f = floorFlags.get(key);
      return f !== undefined && f.countries.has(u.country) && murmur3(key + ':' + u.id) % BUCKETS < f.threshold;
    };

    const snapshot = ours.snapshot;
    snapshot.warm();
    const service = ours.service;
    const requestState = ours.app.get(RequestStateService).create({ headers: {} });
    if (requestState.environment !== 'production')
      return abort(`a request naming no environment is in ${requestState.environment}`, {});

    // Our answers must be the floor's, pair by pair: same hash, same threshold.
    for (let i = 0; i < n; i++) {
      const expected = floorAnswer(floorCtx.keys[i], floorCtx.contexts[i]);
      if (
        snapshot.isEnabled(ourCtx.keys[i], 'production', ourCtx.contexts[i]) !== expected ||
        service.isEnabled(ourCtx.keys[i], ourCtx.contexts[i]) !== expected
      ) {
        return abort(`our evaluator and the floor disagree on ${ourCtx.keys[i]} for ${floorCtx.contexts[i].id}`, {});
      }
    }

    const contenders: LoopContender[] = [
      {
        name: CONTENDERS.floor,
        run(passes) {
          const k = floorCtx.keys;
          const c = floorCtx.contexts;
          let on = 0;
          for (let p = 0; p < passes; p++) {
            for (let i = 0; i < n; i++) {
              const key = k[i];
              const u = c[i];
              const f = floorFlags.get(key);
              if (f !== undefined && f.countries.has(u.country) && murmur3(key + ':' + u.id) % BUCKETS < f.threshold)
                on++;
            }
          }
          return on;
        },
      },
      {
        name: CONTENDERS.core,
        run(passes) {
          const k = ourCtx.keys;
          const c = ourCtx.contexts;
          let on = 0;
          for (let p = 0; p < passes; p++)
            for (let i = 0; i < n; i++) if (snapshot.isEnabled(k[i], 'production', c[i])) on++;
          return on;
        },
      },
      {
        name: CONTENDERS.service,
        run(passes) {
          const k = ourCtx.keys;
          const c = ourCtx.contexts;
          let on = 0;
          for (let p = 0; p < passes; p++) for (let i = 0; i < n; i++) if (service.isEnabled(k[i], c[i])) on++;
          return on;
        },
      },
      {
        name: CONTENDERS.serviceInRequest,
        run(passes) {
          const k = ourCtx.keys;
          const c = ourCtx.contexts;
          return runWithRequestState(requestState, () => {
            let on = 0;
            for (let p = 0; p < passes; p++) for (let i = 0; i < n; i++) if (service.isEnabled(k[i], c[i])) on++;
            return on;
          });
        },
      },
      {
        name: CONTENDERS.unleash,
        run(passes) {
          const k = unleashCtx.keys;
          const c = unleashCtx.contexts;
          let on = 0;
          for (let p = 0; p < passes; p++) for (let i = 0; i < n; i++) if (unleash.isEnabled(k[i], c[i])) on++;
          return on;
        },
      },
      {
        name: CONTENDERS.growthbook,
        run(passes) {
          const k = gbCtx.keys;
          const c = gbCtx.contexts;
          let on = 0;
          for (let p = 0; p < passes; p++) for (let i = 0; i < n; i++) if (growthbook.isOn(k[i], c[i])) on++;
          return on;
        },
      },
      {
        name: CONTENDERS.flagd,
        run(passes) {
          const k = flagdCtx.keys;
          const c = flagdCtx.contexts;
          let on = 0;
          for (let p = 0; p < passes; p++)
            for (let i = 0; i < n; i++) if (flagd.resolveBooleanEvaluation(k[i], false, c[i]).value) on++;
          return on;
        },
      },
    ];

    // Nobody wins by doing less: every contender must find (nearly) the same share of users on.
    const shares = contenders.map((c) => ({ name: c.name, onShare: c.run(1) / n }));
    const off = shares.filter(
      (s) => Math.abs(s.onShare - WORKLOAD.expectedOnShare) * 100 > WORKLOAD.onShareTolerancePoints,
    );
    if (off.length > 0) {
      return abort(
        `on-share off by more than ${WORKLOAD.onShareTolerancePoints} points: ${off.map((s) => `${s.name} ${percent(s.onShare)}`).join(', ')}`,
        { onShares: shares },
      );
    }

    options.log(`evaluation: ${contenders.length} contenders × ${sizes.rounds} rounds, ${fmt(n)} evaluations per pass`);
    const measured = compareInterleaved(contenders, {
      evaluationsPerPass: n,
      rounds: sizes.rounds,
      roundMs: sizes.roundMs,
      warmupPasses: sizes.warmupPasses,
      log: options.log,
    });

    // OpenFeature: the provider over the same snapshot, against the service's own calls.
    const provider = ours.app.get(FeatureFlagsProvider);
    const domain = 'nestjs-feature-flags-bench';
    await OpenFeature.setProviderAndWait(domain, provider);
    const client = OpenFeature.getClient(domain);
    const k = ourCtx.keys;
    const c = ourCtx.contexts;
    // The same context objects, typed as OpenFeature's (plain strings: targetingKey and country).
    const ofc = c as unknown as OpenFeatureContext[];
    const openFeature: AsyncLoopContender[] = [
      {
        name: OPENFEATURE_CONTENDERS.serviceIsEnabled,
        async run(passes) {
          let on = 0;
          for (let p = 0; p < passes; p++) for (let i = 0; i < n; i++) if (service.isEnabled(k[i], c[i])) on++;
          return on;
        },
      },
      {
        name: OPENFEATURE_CONTENDERS.serviceEvaluate,
        async run(passes) {
          let on = 0;
          for (let p = 0; p < passes; p++)
            for (let i = 0; i < n; i++) if (service.evaluate(k[i], c[i], false).value) on++;
          return on;
        },
      },
      {
        // What awaiting alone costs (OpenFeature's provider API is asynchronous): the provider's floor.
        name: OPENFEATURE_CONTENDERS.serviceEvaluateAwaited,
        async run(passes) {
          let on = 0;
          for (let p = 0; p < passes; p++)
            for (let i = 0; i < n; i++) if ((await Promise.resolve(service.evaluate(k[i], c[i], false))).value) on++;
          return on;
        },
      },
      {
        // The provider's own work: the resolution resolveBooleanEvaluation wraps in a promise.
        name: OPENFEATURE_CONTENDERS.providerSync,
        async run(passes) {
          let on = 0;
          for (let p = 0; p < passes; p++)
            for (let i = 0; i < n; i++) if (provider.resolve(k[i], false, ofc[i]).value) on++;
          return on;
        },
      },
      {
        name: OPENFEATURE_CONTENDERS.provider,
        async run(passes) {
          let on = 0;
          for (let p = 0; p < passes; p++)
            for (let i = 0; i < n; i++) if ((await provider.resolveBooleanEvaluation(k[i], false, ofc[i])).value) on++;
          return on;
        },
      },
      {
        name: OPENFEATURE_CONTENDERS.client,
        async run(passes) {
          let on = 0;
          for (let p = 0; p < passes; p++)
            for (let i = 0; i < n; i++) if (await client.getBooleanValue(k[i], false, ofc[i])) on++;
          return on;
        },
      },
    ];
    options.log(`evaluation (OpenFeature): ${openFeature.length} contenders × ${sizes.rounds} rounds`);
    try {
      const measuredOpenFeature = await compareInterleavedAsync(openFeature, {
        evaluationsPerPass: n,
        rounds: sizes.rounds,
        roundMs: sizes.roundMs,
        warmupPasses: sizes.warmupPasses,
        log: options.log,
      });
      const differing = measuredOpenFeature.filter((m) => m.onPerPass !== measuredOpenFeature[0].onPerPass);
      if (differing.length > 0)
        return abort(
          `OpenFeature contenders disagree: ${differing.map((m) => `${m.name} ${m.onPerPass}`).join(', ')}`,
          {},
        );
      return report(measured, measuredOpenFeature, sizes, n);
    } finally {
      await OpenFeature.clearProviders();
    }
  } finally {
    unleash.destroy();
    growthbook.destroy();
    await ours.close();
  }
}

function abort(reason: string, data: Record<string, unknown>): SuiteResult {
  return { status: 'aborted', reason, tables: [], targets: [], data, notes: [] };
}

function report(
  measured: ContenderMeasurement[],
  openFeature: ContenderMeasurement[],
  sizes: EvaluationSizes,
  n: number,
): SuiteResult {
  const by = (name: string): ContenderMeasurement => measured.find((m) => m.name === name)!;
  const floor = by(CONTENDERS.floor);
  // The ≥ 8× target was set against unleash-client and GrowthBook; flagd-core (added later) is in the table.
  const fasterPeer = [by(CONTENDERS.unleash), by(CONTENDERS.growthbook)].sort((a, b) => a.nsPerEval - b.nsPerEval)[0];
  const rows = measured.map((m) => [
    m.name,
    fmt(m.nsPerEval, 1),
    `${fmt(Math.min(...m.rounds), 1)}–${fmt(Math.max(...m.rounds), 1)}`,
    times(m.nsPerEval / floor.nsPerEval),
    times(fasterPeer.nsPerEval / m.nsPerEval),
    percent(m.onShare),
  ]);
  const targets: TargetResult[] = [];
  for (const name of [CONTENDERS.service, CONTENDERS.core]) {
    const m = by(name);
    const short = name === CONTENDERS.service ? 'FeatureFlagsService.isEnabled' : 'core FlagSnapshot.isEnabled';
    targets.push(
      {
        name: `${short}: ns per evaluation`,
        target: `≤ ${EVALUATION_TARGETS.maxNs} ns`,
        measured: `${fmt(m.nsPerEval, 1)} ns`,
        ratio: sig(m.nsPerEval / EVALUATION_TARGETS.maxNs),
        met: m.nsPerEval <= EVALUATION_TARGETS.maxNs,
      },
      {
        name: `${short}: vs the floor`,
        target: `≤ ${EVALUATION_TARGETS.maxFloorRatio}× floor`,
        measured: `${times(m.nsPerEval / floor.nsPerEval)} (${fmt(m.nsPerEval, 1)} / ${fmt(floor.nsPerEval, 1)} ns)`,
        ratio: sig(m.nsPerEval / floor.nsPerEval),
        met: m.nsPerEval / floor.nsPerEval <= EVALUATION_TARGETS.maxFloorRatio,
      },
      {
        name: `${short}: vs the faster peer (${fasterPeer.name})`,
        target: `≥ ${EVALUATION_TARGETS.minPeerSpeedup}× faster`,
        measured: `${times(fasterPeer.nsPerEval / m.nsPerEval, 1)} (${fmt(fasterPeer.nsPerEval, 0)} / ${fmt(m.nsPerEval, 1)} ns)`,
        ratio: sig(fasterPeer.nsPerEval / m.nsPerEval),
        met: fasterPeer.nsPerEval / m.nsPerEval >= EVALUATION_TARGETS.minPeerSpeedup,
      },
    );
  }
  const ofBy = (name: string): ContenderMeasurement => openFeature.find((m) => m.name === name)!;
  const evaluate = ofBy(OPENFEATURE_CONTENDERS.serviceEvaluate);
  const provider = ofBy(OPENFEATURE_CONTENDERS.provider);
  const awaited = ofBy(OPENFEATURE_CONTENDERS.serviceEvaluateAwaited);
  // The provider's cost is its CPU time per evaluation, divided round by round by the service's (both run
  // side by side in every round): wall time on a loaded, shared machine measures the other processes too.
  const cpuRatio = pairedRatio(provider.cpuRounds, evaluate.cpuRounds);
  const wallRatio = pairedRatio(provider.rounds, evaluate.rounds);
  targets.push({
    name: 'FeatureFlagsProvider (awaited) vs FeatureFlagsService.evaluate',
    target: `≤ ${EVALUATION_TARGETS.maxProviderRatio}× the service (CPU per evaluation)`,
    measured: `${times(cpuRatio)} CPU (${fmt(provider.cpuNsPerEval, 1)} / ${fmt(evaluate.cpuNsPerEval, 1)} ns); wall ${times(wallRatio)}; evaluate awaited ${times(pairedRatio(awaited.cpuRounds, evaluate.cpuRounds))}, provider without the promise ${times(pairedRatio(ofBy(OPENFEATURE_CONTENDERS.providerSync).cpuRounds, evaluate.cpuRounds))} CPU`,
    ratio: sig(cpuRatio),
    met: cpuRatio <= EVALUATION_TARGETS.maxProviderRatio,
  });
  // Details cost over the yes/no answer: the same calls, side by side in every round, CPU paired.
  const isEnabled = ofBy(OPENFEATURE_CONTENDERS.serviceIsEnabled);
  const detailsRatio = pairedRatio(evaluate.cpuRounds, isEnabled.cpuRounds);
  targets.push({
    name: 'FeatureFlagsService.evaluate (details) vs FeatureFlagsService.isEnabled',
    target: `≤ ${EVALUATION_TARGETS.maxDetailsRatio}× isEnabled (CPU per evaluation)`,
    measured: `${times(detailsRatio)} CPU (${fmt(evaluate.cpuNsPerEval, 1)} / ${fmt(isEnabled.cpuNsPerEval, 1)} ns); wall ${times(pairedRatio(evaluate.rounds, isEnabled.rounds))}`,
    ratio: sig(detailsRatio),
    met: detailsRatio <= EVALUATION_TARGETS.maxDetailsRatio,
  });
  return {
    status: 'ok',
    tables: [
      {
        title: `Evaluation: ${WORKLOAD.flags} flags × ${WORKLOAD.users} users, ${fmt(n)} evaluations per pass, median of ${sizes.rounds} interleaved rounds`,
        columns: ['contender', 'ns/eval (median)', 'range over rounds', '÷ floor', 'faster peer ÷ this', 'on-share'],
        rows,
      },
      {
        title: `OpenFeature: the same ${fmt(n)} evaluations, each awaited (median of ${sizes.rounds} interleaved rounds)`,
        columns: [
          'contender',
          'CPU ns/eval (median)',
          '÷ evaluate (CPU, paired)',
          'wall ns/eval (median)',
          'range over rounds (wall)',
          '÷ evaluate (wall, paired)',
          'on-share',
        ],
        rows: openFeature.map((m) => [
          m.name,
          fmt(m.cpuNsPerEval, 1),
          times(pairedRatio(m.cpuRounds, evaluate.cpuRounds)),
          fmt(m.nsPerEval, 1),
          `${fmt(Math.min(...m.rounds), 1)}–${fmt(Math.max(...m.rounds), 1)}`,
          times(pairedRatio(m.rounds, evaluate.rounds)),
          percent(m.onShare),
        ]),
      },
    ],
    targets,
    data: {
      workload: { ...WORKLOAD, evaluationsPerPass: n },
      sizes,
      contenders: measured,
      openFeature,
      fasterPeer: fasterPeer.name,
    },
    notes: [
      'The floor hashes only when the country test passes, as every contender does (a Nordic user is half the workload).',
      'The "≥ 8× faster than the faster peer" target is judged against unleash-client and GrowthBook, the peers it was set against; @openfeature/flagd-core is measured in the same rounds (its column "÷ floor" gives its cost).',
      'FeatureFlagsService.isEnabled is called outside a request (default environment); "in a request" runs the same loop inside the request scope the middleware opens.',
      'OpenFeature: the provider returns details (value, reason, variant, flag metadata) like FeatureFlagsService.evaluate, its yardstick; each call is awaited. "evaluate, each awaited" is what the await alone adds. The server-sdk client adds its own work (hooks, context merge, event details) on top.',
      "OpenFeature ratios are paired: each round runs every contender back to back, and a ratio is the median over rounds of this round's cost ÷ the service's in the same round. The target is judged on CPU time (the process's user + system time, GC included), which other load on a shared machine barely moves; wall time is shown beside it.",
    ],
  };
}

export const evaluationSuite: Suite = {
  id: 'evaluation',
  section: 1,
  title: 'Evaluation throughput vs peers',
  run: (options) => runEvaluation(options, options.quick ? QUICK_SIZES : FULL_SIZES),
};
