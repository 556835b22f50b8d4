/**
 * The contract between `bench/run.ts` and the suites in `bench/suites/`: a suite is a module exporting a
 * `Suite`, registered in `bench/run.ts`. Adding a section means adding one file and one line there.
 */

/** How a suite is asked to run. */
export interface SuiteOptions {
  /** Smoke-check mode: a few rounds, short loads. Figures are not meant to be quoted. */
  quick: boolean;
  /** Progress lines (stderr in the CLI, silent in tests). */
  log: (line: string) => void;
}

/** One target of the issue, checked against a measured figure. */
export interface TargetResult {
  /** What is compared, e.g. "FeatureFlagsService.isEnabled ≤ 150 ns". */
  name: string;
  /** The target as written, e.g. "≤ 150 ns". */
  target: string;
  /** The measured figure, e.g. "96 ns". */
  measured: string;
  /** The ratio the target is about (measured / limit, or the speed-up), when there is one. */
  ratio?: number;
  met: boolean;
}

/** A table to print and to copy into RESULTS.md. */
export interface ResultTable {
  title: string;
  columns: string[];
  rows: (string | number)[][];
}

/** What a suite reports. */
export interface SuiteResult {
  /**
   * ok: measured. not-available: the feature it measures does not exist yet. skipped: a service it needs is
   * not running. aborted: a sanity check failed (figures withheld). failed: it threw.
   */
  status: 'ok' | 'not-available' | 'skipped' | 'aborted' | 'failed';
  /** One line saying why, for any status but ok. */
  reason?: string;
  tables: ResultTable[];
  targets: TargetResult[];
  /** Machine-readable figures (medians, every round, ratios, settings), written to latest.json. */
  data: Record<string, unknown>;
  /** Remarks worth keeping next to the figures. */
  notes: string[];
}

/** A benchmark section. */
export interface Suite {
  /** Short id used by `--only` and as the key in latest.json. */
  id: string;
  /** The section number in the benchmark issue. */
  section: number;
  title: string;
  run(options: SuiteOptions): Promise<SuiteResult>;
}

/** A result with nothing measured. */
export function emptyResult(
  status: SuiteResult['status'],
  reason: string,
  data: Record<string, unknown> = {},
): SuiteResult {
  return { status, reason, tables: [], targets: [], data, notes: [] };
}
