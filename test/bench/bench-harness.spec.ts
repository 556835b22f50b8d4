/**
 * Proves the benchmark harness works: a small run of the evaluation section, in-process. It asserts that
 * every contender did the same work (on-shares) and the shape of what the harness reports — never a
 * timing: figures come from `npm run bench`, not from the test suite.
 */
import { SuiteResult } from '../../bench/harness/types';
import { CONTENDERS, OPENFEATURE_CONTENDERS, runEvaluation } from '../../bench/suites/evaluation';
import { WORKLOAD } from '../../bench/workload';

describe('benchmark harness: evaluation section (quick, in-process)', () => {
  let result: SuiteResult;
  const sizes = { sequence: 16_000, rounds: 2, roundMs: 5, warmupPasses: 1 };

  beforeAll(async () => {
    result = await runEvaluation({ quick: true, log: () => undefined }, sizes);
  }, 60_000);

  type Measured = {
    name: string;
    nsPerEval: number;
    rounds: number[];
    cpuNsPerEval: number;
    cpuRounds: number[];
    onShare: number;
    onPerPass: number;
    passesPerRound: number;
  };
  const contenders = (): Measured[] => result.data.contenders as Measured[];
  const byName = (name: string): Measured => contenders().find((c) => c.name === name)!;

  it('measures every contender', () => {
    expect(result.status).toBe('ok');
    expect(
      contenders()
        .map((c) => c.name)
        .sort(),
    ).toEqual(Object.values(CONTENDERS).sort());
    for (const c of contenders()) {
      expect(c.rounds).toHaveLength(sizes.rounds);
      expect(c.nsPerEval).toBeGreaterThan(0);
      expect(Number.isFinite(c.nsPerEval)).toBe(true);
      expect(c.passesPerRound).toBeGreaterThanOrEqual(1);
    }
  });

  it('gives every contender the same work: the same on-share, within the tolerance', () => {
    for (const c of contenders()) {
      expect(Math.abs(c.onShare - WORKLOAD.expectedOnShare) * 100).toBeLessThanOrEqual(WORKLOAD.onShareTolerancePoints);
    }
    // This library hashes exactly as the floor does: the very same evaluations are on.
    const floor = byName(CONTENDERS.floor).onPerPass;
    expect(byName(CONTENDERS.core).onPerPass).toBe(floor);
    expect(byName(CONTENDERS.service).onPerPass).toBe(floor);
    expect(byName(CONTENDERS.serviceInRequest).onPerPass).toBe(floor);
    // Peers hash differently but land on (nearly) the same share.
    expect(byName(CONTENDERS.unleash).onPerPass).toBeGreaterThan(0);
    expect(byName(CONTENDERS.growthbook).onPerPass).toBeGreaterThan(0);
    expect(byName(CONTENDERS.flagd).onPerPass).toBeGreaterThan(0);
  });

  it('measures the OpenFeature provider on the same work as the service', () => {
    const openFeature = result.data.openFeature as Measured[];
    expect(openFeature.map((c) => c.name).sort()).toEqual(Object.values(OPENFEATURE_CONTENDERS).sort());
    const floor = byName(CONTENDERS.floor).onPerPass;
    for (const c of openFeature) {
      expect(c.onPerPass).toBe(floor);
      expect(c.rounds).toHaveLength(sizes.rounds);
      expect(c.nsPerEval).toBeGreaterThan(0);
      // CPU time, round by round beside wall time: the provider's ratio is judged on it.
      expect(c.cpuRounds).toHaveLength(sizes.rounds);
      expect(c.cpuNsPerEval).toBeGreaterThan(0);
      expect(Number.isFinite(c.cpuNsPerEval)).toBe(true);
    }
    expect(result.tables[1].rows).toHaveLength(Object.keys(OPENFEATURE_CONTENDERS).length);
    expect(result.tables[1].rows.every((r) => r.length === result.tables[1].columns.length)).toBe(true);
  });

  it('reports a table and a verdict for every target', () => {
    expect(result.tables).toHaveLength(2);
    expect(result.tables[0].rows).toHaveLength(Object.keys(CONTENDERS).length);
    expect(result.tables[0].rows.every((r) => r.length === result.tables[0].columns.length)).toBe(true);
    // Three targets (ns, ÷ floor, × faster peer) for the service and for the core; the provider's ratio;
    // evaluate's over isEnabled.
    expect(result.targets).toHaveLength(8);
    expect(result.targets[6].name).toBe('FeatureFlagsProvider (awaited) vs FeatureFlagsService.evaluate');
    expect(result.targets[7].name).toBe('FeatureFlagsService.evaluate (details) vs FeatureFlagsService.isEnabled');
    for (const t of result.targets) {
      expect(typeof t.met).toBe('boolean');
      expect(t.target).not.toBe('');
      expect(t.measured).not.toBe('');
    }
  });
});
