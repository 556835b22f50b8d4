/**
 * The benchmark report puts every Node version side by side: one row per target with each Node's target,
 * figure and verdict, then each section's tables per Node. Built from a made-up run: no timing here.
 */
import { RunReport, resultsMarkdown, targetsTable } from '../../bench/harness/report';
import { Suite, SuiteResult } from '../../bench/harness/types';
import { httpMaxCpuRatio } from '../../bench/suites/http';

const http: Suite = { id: 'http', section: 3, title: 'HTTP', run: () => Promise.reject(new Error('not run')) };
const scale: Suite = { id: 'scale', section: 4, title: 'Scale', run: () => Promise.reject(new Error('not run')) };

function httpResult(node: string, ratio: number, limit: number): SuiteResult {
  return {
    status: 'ok',
    tables: [{ title: `Express on ${node}`, columns: ['app', 'CPU ÷ bare'], rows: [['guarded', `${ratio}×`]] }],
    targets: [
      {
        name: 'express: guarded route CPU per request ÷ bare',
        target: `≤ ${limit}×`,
        measured: `${ratio}×`,
        ratio,
        met: ratio <= limit,
      },
    ],
    data: {},
    notes: [`measured on ${node}`],
  };
}

const report: RunReport = {
  meta: {
    date: '2026-11-30T00:00:00.000Z',
    mode: 'full',
    node: 'v20.20.2',
    v8: '11',
    platform: 'Linux',
    cpu: 'cpu',
    cores: 2,
    memoryGiB: 4,
    commit: 'abc1234',
    dirty: false,
    durationSeconds: 1,
    command: 'npm run bench',
  },
  notes: ['Node 24: better-sqlite3 could not be built; the sections that need SQLite were skipped there.'],
  nodes: [
    {
      label: 'Node 20',
      version: 'v20.20.2',
      suites: {
        http: { section: 3, title: 'HTTP', ...httpResult('Node 20', 1.08, 1.1) },
        scale: { section: 4, title: 'Scale', status: 'ok', tables: [], targets: [], data: {}, notes: [] },
      },
    },
    {
      label: 'Node 24',
      version: 'v24.22.3',
      suites: {
        http: { section: 3, title: 'HTTP', ...httpResult('Node 24', 1.07, 1.05) },
        scale: {
          section: 4,
          title: 'Scale',
          status: 'skipped',
          reason: 'better-sqlite3 could not be built',
          tables: [],
          targets: [],
          data: {},
          notes: [],
        },
      },
    },
  ],
};

describe('benchmark report: Node versions side by side', () => {
  it("gives each target one row, with every Node version's target, figure and verdict", () => {
    const table = targetsTable(report, [http, scale]);
    expect(table.columns).toEqual([
      'section',
      'what',
      'Node 20: target',
      'Node 20: measured',
      'Node 20',
      'Node 24: target',
      'Node 24: measured',
      'Node 24',
    ]);
    expect(table.rows).toEqual([
      [
        '3',
        'express: guarded route CPU per request ÷ bare',
        '≤ 1.1×',
        '1.08× (ratio 1.08)',
        '**met**',
        '≤ 1.05×',
        '1.07× (ratio 1.07)',
        '**missed**',
      ],
    ]);
  });

  it("writes each section's tables under each Node, and says what was skipped and why", () => {
    const md = resultsMarkdown(report, [http, scale], '# Benchmark results');
    expect(md).toContain('| Node.js | Node 20: v20.20.2; Node 24: v24.22.3 |');
    expect(md).toContain('- Node 24: better-sqlite3 could not be built');
    const section = md.slice(md.indexOf('## 3. HTTP'));
    expect(section.indexOf('### Node 20 (v20.20.2)')).toBeLessThan(section.indexOf('**Express on Node 20**'));
    expect(section.indexOf('**Express on Node 20**')).toBeLessThan(section.indexOf('### Node 24 (v24.22.3)'));
    expect(section).toContain('**Express on Node 24**');
    expect(md.slice(md.indexOf('## 4. Scale'))).toContain(
      '### Node 24 (v24.22.3)\n\nskipped: better-sqlite3 could not be built',
    );
  });

  it('holds the HTTP section to 1.05× on Node 24 and later, 1.10× before', () => {
    expect(httpMaxCpuRatio('v24.22.3')).toBe(1.05);
    expect(httpMaxCpuRatio('v26.0.0')).toBe(1.05);
    expect(httpMaxCpuRatio('v22.12.0')).toBe(1.1);
    expect(httpMaxCpuRatio('v20.20.2')).toBe(1.1);
  });
});
