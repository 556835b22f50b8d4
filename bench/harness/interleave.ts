import { collectGarbage, median, nsSince } from './stats';

/** CPU nanoseconds (user + system) the process used since `start` (a `process.cpuUsage()` reading). */
function cpuNsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) * 1000;
}

/**
 * The median over rounds of `a`'s cost divided by `b`'s in the same round: each round runs both back to back,
 * so a burst of load on a shared machine weighs on both sides of one ratio rather than on one contender's median.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((value, r) => value / b[r]));
}

/**
 * A contender of an in-process comparison. `run(passes)` evaluates the whole workload sequence `passes`
 * times and returns how many evaluations were on (which also keeps the optimiser from dropping the work).
 * Each contender has its own loop, so that no call site is shared between contenders.
 */
export interface LoopContender {
  name: string;
  run(passes: number): number;
}

/** How an interleaved comparison runs. */
export interface InterleaveOptions {
  /** Evaluations in one pass over the workload sequence. */
  evaluationsPerPass: number;
  /** Measured rounds; each round runs every contender once, in a rotated order. */
  rounds: number;
  /** Roughly how long one contender runs in one round (passes are calibrated to it during warm-up). */
  roundMs: number;
  /** Warm-up passes per contender, after the first (verification) pass. */
  warmupPasses: number;
  log?: (line: string) => void;
}

/** What one contender measured. */
export interface ContenderMeasurement {
  name: string;
  /** Median over the rounds of nanoseconds per evaluation. */
  nsPerEval: number;
  /** Nanoseconds per evaluation in each round, in round order. */
  rounds: number[];
  /**
   * Median over the rounds of the process's CPU time (user + system, every thread: GC included) per
   * evaluation, in nanoseconds. On a shared machine wall time grows with other processes' load; CPU time
   * barely does.
   */
  cpuNsPerEval: number;
  /** CPU nanoseconds per evaluation in each round, in round order (paired with the other contenders' rounds). */
  cpuRounds: number[];
  /** Passes over the sequence per round. */
  passesPerRound: number;
  /** Share of evaluations that were on, over one pass (the workload's identity check). */
  onShare: number;
  /** Evaluations that were on in one pass. */
  onPerPass: number;
}

/**
 * Runs every contender once to record its on-share, warms each up, then measures them in `rounds`
 * interleaved rounds (the order rotates every round, so that no contender always runs first or after the
 * same neighbour). Reports the median of the rounds. Throws when a contender's on-count changes between
 * passes: the workload must be deterministic.
 */
export function compareInterleaved(
  contenders: readonly LoopContender[],
  options: InterleaveOptions,
): ContenderMeasurement[] {
  const n = options.evaluationsPerPass;
  const onPerPass = contenders.map((c) => c.run(1));
  const passes = contenders.map((c) => {
    let ns = 0;
    for (let i = 0; i < Math.max(1, options.warmupPasses); i++) {
      const start = process.hrtime.bigint();
      c.run(1);
      ns = nsSince(start);
    }
    return Math.max(1, Math.round((options.roundMs * 1e6) / Math.max(ns, 1)));
  });
  const rounds: number[][] = contenders.map(() => []);
  const cpuRounds: number[][] = contenders.map(() => []);
  for (let r = 0; r < options.rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (r + k) % contenders.length;
      collectGarbage();
      const cpu = process.cpuUsage();
      const start = process.hrtime.bigint();
      const on = contenders[i].run(passes[i]);
      const ns = nsSince(start);
      cpuRounds[i].push(cpuNsSince(cpu) / (passes[i] * n));
      if (on !== onPerPass[i] * passes[i]) {
        throw new Error(
          `${contenders[i].name}: ${on} evaluations on in ${passes[i]} passes, expected ${onPerPass[i] * passes[i]}: not deterministic`,
        );
      }
      rounds[i].push(ns / (passes[i] * n));
    }
    options.log?.(
      `  round ${r + 1}/${options.rounds}: ${contenders.map((c, i) => `${c.name} ${rounds[i][r].toFixed(1)} ns`).join(', ')}`,
    );
  }
  return contenders.map((c, i) => ({
    name: c.name,
    nsPerEval: median(rounds[i]),
    rounds: rounds[i],
    cpuNsPerEval: median(cpuRounds[i]),
    cpuRounds: cpuRounds[i],
    passesPerRound: passes[i],
    onShare: onPerPass[i] / n,
    onPerPass: onPerPass[i],
  }));
}

/** A contender whose evaluations are asynchronous (awaited one after the other), like OpenFeature's. */
export interface AsyncLoopContender {
  name: string;
  run(passes: number): Promise<number>;
}

/** `compareInterleaved` for asynchronous contenders: the same calibration, rotation and checks. */
export async function compareInterleavedAsync(
  contenders: readonly AsyncLoopContender[],
  options: InterleaveOptions,
): Promise<ContenderMeasurement[]> {
  const n = options.evaluationsPerPass;
  const onPerPass: number[] = [];
  for (const c of contenders) onPerPass.push(await c.run(1));
  const passes: number[] = [];
  for (const c of contenders) {
    let ns = 0;
    for (let i = 0; i < Math.max(1, options.warmupPasses); i++) {
      const start = process.hrtime.bigint();
      await c.run(1);
      ns = nsSince(start);
    }
    passes.push(Math.max(1, Math.round((options.roundMs * 1e6) / Math.max(ns, 1))));
  }
  const rounds: number[][] = contenders.map(() => []);
  const cpuRounds: number[][] = contenders.map(() => []);
  for (let r = 0; r < options.rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (r + k) % contenders.length;
      collectGarbage();
      const cpu = process.cpuUsage();
      const start = process.hrtime.bigint();
      const on = await contenders[i].run(passes[i]);
      const ns = nsSince(start);
      cpuRounds[i].push(cpuNsSince(cpu) / (passes[i] * n));
      if (on !== onPerPass[i] * passes[i]) {
        throw new Error(
          `${contenders[i].name}: ${on} evaluations on in ${passes[i]} passes, expected ${onPerPass[i] * passes[i]}: not deterministic`,
        );
      }
      rounds[i].push(ns / (passes[i] * n));
    }
    options.log?.(
      `  round ${r + 1}/${options.rounds}: ${contenders.map((c, i) => `${c.name} ${rounds[i][r].toFixed(1)} ns`).join(', ')}`,
    );
  }
  return contenders.map((c, i) => ({
    name: c.name,
    nsPerEval: median(rounds[i]),
    rounds: rounds[i],
    cpuNsPerEval: median(cpuRounds[i]),
    cpuRounds: cpuRounds[i],
    passesPerRound: passes[i],
    onShare: onPerPass[i] / n,
    onPerPass: onPerPass[i],
  }));
}
