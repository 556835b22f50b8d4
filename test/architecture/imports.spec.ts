import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The import rules of lib/ (`.dependency-cruiser.cjs`), checked with dependency-cruiser: no import cycle;
 * lib/core imports no framework and nothing above it; storage imports nothing above it; only the TypeORM
 * backend imports typeorm and only the Redis backend ioredis. The import cycles that existed when the rules
 * came in were listed in known-import-cycles.json and broken one by one: the list is empty now, and may
 * only stay so.
 */
const ROOT = resolve(__dirname, '../..');
const KNOWN = join(__dirname, 'known-import-cycles.json');

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
  cycle?: { name: string }[];
}

function cruise(...args: string[]): { violations: Violation[]; modules: number } {
  const bin = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const out = execFileSync(
    process.execPath,
    [bin, 'lib', '--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...args],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const result = JSON.parse(out) as { summary: { violations: Violation[]; totalCruised: number } };
  // Known violations come back with severity `ignore`.
  return {
    violations: result.summary.violations.filter((v) => v.rule.severity !== 'ignore'),
    modules: result.summary.totalCruised,
  };
}

const describeViolation = (v: Violation): string =>
  `${v.rule.name}: ${v.from} → ${v.cycle ? v.cycle.map((c) => c.name).join(' → ') : v.to}`;

describe('the import rules of lib/', () => {
  it('hold, apart from the known import cycles', () => {
    const { violations, modules } = cruise('--ignore-known', KNOWN);
    expect(modules).toBeGreaterThan(100);
    expect(violations.map(describeViolation)).toEqual([]);
  });

  it('know no violation: every import cycle is broken', () => {
    const known = JSON.parse(readFileSync(KNOWN, 'utf8')) as Violation[];
    expect(known.map(describeViolation)).toEqual([]);
  });

  it('hold without the known list', () => {
    expect(cruise().violations.map(describeViolation)).toEqual([]);
  });
});
