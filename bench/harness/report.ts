import { execSync } from 'node:child_process';
import * as os from 'node:os';
import { ResultTable, Suite, SuiteResult } from './types';

/** Where and how a run happened. */
export interface RunMeta {
  date: string;
  mode: 'full' | 'quick';
  node: string;
  v8: string;
  platform: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  commit: string | null;
  /** Whether the work tree had uncommitted changes to lib/ or bench/. */
  dirty: boolean | null;
  durationSeconds: number;
  command: string;
}

/** What one section reported on one Node version. */
export type SuiteEntry = { section: number; title: string } & SuiteResult;

/** Every section's result on one Node version. */
export interface NodeRun {
  /** "Node 20", "Node 24". */
  label: string;
  /** process.version of that Node. */
  version: string;
  suites: Record<string, SuiteEntry>;
}

/** Everything a run wrote to latest.json: the same sections on each Node version. */
export interface RunReport {
  meta: RunMeta;
  nodes: NodeRun[];
  /** What could not be measured, and why (a Node version, an addon). */
  notes: string[];
}

function git(args: string): string | null {
  try {
    return execSync(`git ${args}`, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/** The machine and build the figures belong to. */
export function runMeta(mode: 'full' | 'quick', durationSeconds: number, command: string): RunMeta {
  const cpus = os.cpus();
  // A run from an exported tree (no .git) names its commit in BENCH_COMMIT.
  const status = git('status --porcelain -- lib bench');
  return {
    date: new Date().toISOString(),
    mode,
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    commit: git('rev-parse --short HEAD') ?? process.env.BENCH_COMMIT ?? null,
    dirty: status === null ? null : status !== '',
    durationSeconds: Math.round(durationSeconds),
    command,
  };
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i])).join('  ');
}

/** A table as aligned plain text. */
export function textTable(table: ResultTable): string {
  const rows = table.rows.map((r) => r.map(String));
  const widths = table.columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [
    table.title,
    pad(table.columns, widths),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map((r) => pad(r, widths)),
  ].join('\n');
}

/** A table as Markdown. */
export function markdownTable(columns: string[], rows: (string | number)[][]): string {
  const esc = (v: string | number): string => String(v).replace(/\|/g, '\\|');
  return [
    `| ${columns.map(esc).join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** What the CLI prints for one suite (on the Node named by `node`, when given). */
export function textSection(suite: Suite, result: SuiteResult, node?: string): string {
  const head = `== ${suite.section}. ${suite.title}${node ? `, ${node}` : ''} ==`;
  if (result.status !== 'ok') return `${head}\n${statusLine(result)}`;
  const parts = [head, ...result.tables.map(textTable)];
  if (result.targets.length > 0) {
    parts.push(
      textTable({
        title: 'Targets',
        columns: ['', 'target', 'measured', 'what'],
        rows: result.targets.map((t) => [t.met ? 'MET   ' : 'MISSED', t.target, t.measured, t.name]),
      }),
    );
  }
  return parts.join('\n\n');
}

function statusLine(result: SuiteResult): string {
  switch (result.status) {
    case 'not-available':
      return `not available yet: ${result.reason ?? ''}`;
    case 'skipped':
      return `skipped: ${result.reason ?? ''}`;
    case 'aborted':
      return `ABORTED: ${result.reason ?? ''}`;
    case 'failed':
      return `FAILED: ${result.reason ?? ''}`;
    default:
      return '';
  }
}

/** The targets of every section, one row per target, with each Node version's verdict side by side. */
export function targetsTable(report: RunReport, suites: Suite[]): { columns: string[]; rows: string[][] } {
  const columns = ['section', 'what'];
  for (const n of report.nodes) columns.push(`${n.label}: target`, `${n.label}: measured`, n.label);
  const rows: string[][] = [];
  for (const s of suites) {
    const names: string[] = [];
    for (const n of report.nodes) {
      for (const t of n.suites[s.id]?.targets ?? []) if (!names.includes(t.name)) names.push(t.name);
    }
    for (const name of names) {
      const row = [String(s.section), name];
      for (const n of report.nodes) {
        const entry = n.suites[s.id];
        const t = entry?.targets.find((x) => x.name === name);
        if (t)
          row.push(
            t.target,
            t.ratio === undefined ? t.measured : `${t.measured} (ratio ${t.ratio})`,
            t.met ? '**met**' : '**missed**',
          );
        else row.push('', entry && entry.status !== 'ok' ? entry.status : 'not measured', '');
      }
      rows.push(row);
    }
  }
  return { columns, rows };
}

/** The human summary: how the figures were made, the targets on every Node side by side, then every section. */
export function resultsMarkdown(report: RunReport, suites: Suite[], preface: string): string {
  const m = report.meta;
  const lines: string[] = [preface.trim(), ''];
  lines.push('## This run', '');
  lines.push(
    markdownTable(
      ['', ''],
      [
        ['date', m.date],
        ['command', `\`${m.command}\``],
        ['mode', m.mode],
        ['Node.js', report.nodes.map((n) => `${n.label}: ${n.version}`).join('; ')],
        ['CPU', `${m.cpu}, ${m.cores} cores`],
        ['memory', `${m.memoryGiB} GiB`],
        ['OS', m.platform],
        ['commit', `${m.commit ?? 'unknown'}${m.dirty ? ' (with uncommitted changes to lib/ or bench/)' : ''}`],
        ['duration', `${m.durationSeconds} s`],
      ],
    ),
    '',
  );
  for (const note of report.notes) lines.push(`- ${note}`);
  if (report.notes.length > 0) lines.push('');
  const targets = targetsTable(report, suites);
  if (targets.rows.length > 0) {
    lines.push('## Targets', '');
    lines.push(markdownTable(targets.columns, targets.rows), '');
  }
  for (const s of suites) {
    if (!report.nodes.some((n) => n.suites[s.id])) continue;
    lines.push(`## ${s.section}. ${s.title}`, '');
    for (const n of report.nodes) {
      const r = n.suites[s.id];
      if (!r) continue;
      lines.push(`### ${n.label} (${n.version})`, '');
      if (r.status !== 'ok') {
        lines.push(statusLine(r), '');
        continue;
      }
      for (const t of r.tables) lines.push(`**${t.title}**`, '', markdownTable(t.columns, t.rows), '');
      for (const note of r.notes) lines.push(`- ${note}`);
      if (r.notes.length > 0) lines.push('');
    }
  }
  return lines.join('\n');
}
