/** Small statistics and formatting helpers shared by the suites. */

/** The median of a non-empty list (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The q-quantile (0 ≤ q ≤ 1) by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('quantile of nothing');
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[rank];
}

/** Nanoseconds elapsed since `start` (a `process.hrtime.bigint()` reading). */
export function nsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}

/** Rounds to `digits` significant figures, for display. */
export function sig(value: number, digits = 3): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  return Number(value.toPrecision(digits));
}

/** A number with thousands separators and at most `decimals` decimals. */
export function fmt(value: number, decimals = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: decimals, minimumFractionDigits: decimals });
}

/** A ratio as "1.23×". */
export function times(ratio: number, decimals = 2): string {
  return `${fmt(ratio, decimals)}×`;
}

/** A share (0–1) as a percentage with two decimals. */
export function percent(share: number, decimals = 2): string {
  return `${fmt(share * 100, decimals)}%`;
}

/** Runs the garbage collector when node was started with --expose-gc (the bench command does). */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

/** Milliseconds to wait, as a promise. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
