#!/usr/bin/env node
// The supported lines other than the root one. The root package.json and package-lock.json are the
// newest line; an older line (.ci/<line>/) is the root package.json with the devDependencies listed in
// .ci/<line>/versions.json, installed from its own .ci/<line>/package-lock.json.
//
//   node .ci/line.mjs manifest <line>          print the line's package.json
//   node .ci/line.mjs prepare <line> <dir>     copy the work tree to <dir> with the line's package.json and lockfile
//   node .ci/line.mjs lock <line>              (re)write .ci/<line>/package-lock.json for the current root package.json
//
// After adding or changing a root devDependency, run `node .ci/line.mjs lock nest11` and commit the lockfile:
// `npm ci` in .ci/run refuses a lockfile that does not match its package.json.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [command, line, target] = process.argv.slice(2);

function fail(message) {
  console.error(`line.mjs: ${message}`);
  process.exit(1);
}

function manifest(name) {
  const file = join(root, '.ci', name, 'versions.json');
  if (!existsSync(file)) fail(`no line "${name}" (expected ${file})`);
  const { devDependencies } = JSON.parse(readFileSync(file, 'utf8'));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const [dep, range] of Object.entries(devDependencies)) {
    if (!(dep in pkg.devDependencies)) fail(`${file} pins ${dep}, which the root package.json no longer has`);
    pkg.devDependencies[dep] = range;
  }
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function prepare(name, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The work tree as git sees it (tracked and new files, nothing ignored: no node_modules, no dist).
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && existsSync(join(root, f)));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(join(root, f), join(dir, f));
  }
  writeFileSync(join(dir, 'package.json'), manifest(name));
  copyFileSync(join(root, '.ci', name, 'package-lock.json'), join(dir, 'package-lock.json'));
}

function lock(name) {
  const dir = mkdtempSync(join(tmpdir(), `line-${name}-`));
  try {
    writeFileSync(join(dir, 'package.json'), manifest(name));
    const existing = join(root, '.ci', name, 'package-lock.json');
    if (existsSync(existing)) copyFileSync(existing, join(dir, 'package-lock.json'));
    execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
    copyFileSync(join(dir, 'package-lock.json'), existing);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (command === 'manifest' && line) process.stdout.write(manifest(line));
else if (command === 'prepare' && line && target) prepare(line, resolve(target));
else if (command === 'lock' && line) lock(line);
else fail('usage: line.mjs manifest <line> | prepare <line> <dir> | lock <line>');
