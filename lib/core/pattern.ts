import type { RE2JS } from 're2js';

/**
 * The regular expressions of `matches` conditions, run by RE2 (the `re2js` port): matching time is linear
 * in the length of the value, whatever the pattern, so no stored pattern can stall the event loop the way
 * a backtracking `^(a+)+$` does with `RegExp`. RE2 has no backreferences and no lookaround; such patterns
 * are refused when they are written.
 */

/** The longest pattern a `matches` condition may hold, in characters. */
export const MAX_PATTERN_LENGTH = 1024;

/** The longest value a `matches` condition tests, in characters: a longer value does not match. */
export const MAX_MATCHED_LENGTH = 1024;

/** The most values of a list attribute a `matches` condition tests: a longer list does not match. */
export const MAX_MATCHED_VALUES = 100;

/** A compiled pattern. */
export interface CompiledPattern {
  /** Whether the pattern matches somewhere in `value` (like `RegExp.prototype.test`). */
  test(value: string): boolean;
}

let re2: typeof RE2JS | undefined;

/** RE2, loaded when the first pattern is compiled (re2js is one large file; most flag sets hold no pattern). */
function engine(): typeof RE2JS {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when a `matches` condition is first compiled, not with the library
  re2 ??= (require('re2js') as typeof import('re2js')).RE2JS;
  return re2;
}

const CACHE_SIZE = 512;
const cache = new Map<string, RE2JS | Error>();

function compiled(source: string, caseInsensitive: boolean): RE2JS | Error {
  const cacheKey = (caseInsensitive ? 'i:' : 's:') + source;
  let entry = cache.get(cacheKey);
  if (entry === undefined) {
    try {
      const RE2 = engine();
      entry = RE2.compile(source, caseInsensitive ? RE2.CASE_INSENSITIVE : 0);
    } catch (e) {
      entry = e instanceof Error ? e : new Error(String(e));
    }
    if (cache.size >= CACHE_SIZE) cache.clear();
    cache.set(cacheKey, entry);
  }
  return entry;
}

/**
 * What is wrong with a `matches` pattern, or null when RE2 accepts it: not a string, longer than
 * MAX_PATTERN_LENGTH, or a syntax RE2 refuses (backreferences `\1`, lookaround `(?=` `(?!` `(?<=`,
 * a repetition count above 1000…).
 */
export function patternProblem(source: unknown): string | null {
  if (typeof source !== 'string') return 'matches needs a regular expression string';
  if (source.length > MAX_PATTERN_LENGTH)
    return `matches: the pattern is ${source.length} characters long; at most ${MAX_PATTERN_LENGTH} are accepted`;
  const entry = compiled(source, false);
  if (entry instanceof Error) {
    return `matches: not a regular expression RE2 accepts (${entry.message}); backreferences and lookaround are not supported`;
  }
  return null;
}

/**
 * Compiles a pattern (checked with patternProblem first). Values longer than MAX_MATCHED_LENGTH never
 * match.
 * @throws Error when the pattern does not compile.
 */
export function compilePattern(source: string, caseInsensitive: boolean): CompiledPattern {
  const entry = compiled(source, caseInsensitive);
  if (entry instanceof Error) throw entry;
  return { test: (value) => value.length <= MAX_MATCHED_LENGTH && entry.test(value) };
}
