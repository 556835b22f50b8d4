/**
 * Preloaded (`--require`) into every process of a benchmark section on a Node version other than the
 * one the root node_modules was installed for: `require('better-sqlite3')`, from anywhere, loads the
 * copy in BENCH_BETTER_SQLITE3 (built for this Node's ABI, see node-runtimes.ts) instead of the root's.
 */
import Module = require('node:module');

const target = process.env.BENCH_BETTER_SQLITE3;
if (target) {
  const internal = Module as unknown as {
    _resolveFilename: (request: string, parent: unknown, ...rest: unknown[]) => string;
  };
  const resolve = internal._resolveFilename;
  internal._resolveFilename = function (request: string, parent: unknown, ...rest: unknown[]): string {
    if (request === 'better-sqlite3' || request.startsWith('better-sqlite3/')) {
      return resolve.call(this, `${target}${request.slice('better-sqlite3'.length)}`, parent, ...rest);
    }
    return resolve.call(this, request, parent, ...rest);
  };
}
