#!/usr/bin/env node
// Reads Vitest JSON reports (one per line that ran) and prints one line per report and the closing
//   tests: N passed, N failed
// A report that is missing (the run died before writing it), a file that failed to load (no test of it
// ran), a run that exited non-zero with every test green (an unhandled error) and a run with no test at
// all each count as one failure, so the closing line never reads green for a red run.
//
// A check that is not a test runner (the linter) is given as --check=<label>=<exit status> and counts as one
// test, passed when its exit status is 0.
//
//   node .ci/summary.mjs <label>=<report.json>:<exit status> ... [--check=<label>=<exit status> ...]
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
for (const arg of process.argv.slice(2)) {
  const check = /^--check=([^=]+)=(\d*)$/.exec(arg);
  if (check) {
    const ok = check[2] === '0';
    console.log(`${check[1]}: ${ok ? 'passed' : `failed (exit status ${check[2] || 'none: it did not run'})`}`);
    if (ok) passed++;
    else failed++;
    continue;
  }
  const match = /^([^=]+)=(.*):(\d+)$/.exec(arg);
  if (!match) throw new Error(`summary.mjs: bad argument "${arg}" (expected label=report.json:status)`);
  const [, label, file, statusText] = match;
  const status = Number(statusText);
  let p = 0;
  let f = 0;
  let note = '';
  if (!existsSync(file)) {
    f = 1;
    note = ' (no report: the run stopped before the tests ended)';
  } else {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    p = report.numPassedTests;
    f = report.numFailedTests;
    const brokenFiles = report.testResults.filter((r) => r.status === 'failed' && !r.assertionResults.some((a) => a.status === 'failed'));
    if (brokenFiles.length > 0) {
      f += brokenFiles.length;
      note += ` (${brokenFiles.length} file(s) failed outside a test: ${brokenFiles.map((r) => r.name).join(', ')})`;
    }
    if (report.numPendingTests + (report.numTodoTests ?? 0) > 0) note += ` (${report.numPendingTests + (report.numTodoTests ?? 0)} skipped)`;
    if (p + f === 0) {
      f = 1;
      note += ' (no test ran)';
    } else if (status !== 0 && f === 0) {
      f = 1;
      note += ` (exit status ${status} with every test passing: an error outside the tests, see the log above)`;
    }
  }
  console.log(`${label}: ${p} tests passed, ${f} tests failed${note}`);
  passed += p;
  failed += f;
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
