/**
 * Limits every admin request's input is held to before anything recursive (class-transformer,
 * class-validator, the store) touches it. Checked by walking the parsed JSON with an explicit stack, so a
 * body nested thousands of levels deep is refused with a 400 instead of overflowing the call stack.
 */

/** The deepest nesting of objects and arrays an admin request body or query may have. */
export const MAX_INPUT_DEPTH = 32;

/** The largest integer a request may send for a version, priority or event id (PostgreSQL's `integer`). */
export const MAX_INT32 = 2_147_483_647;
/** The smallest integer a request may send for a rule priority. */
export const MIN_INT32 = -2_147_483_648;

/**
 * Keys refused wherever they appear in a body, like any unknown field: JavaScript gives them meaning
 * (`__proto__` sets a prototype on assignment), so they are never data.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** What is wrong with a request's input: the field and the problem. */
export interface InputProblem {
  field: string;
  problem: string;
}

const MAX_FIELD_LENGTH = 200;

function fieldOf(parent: string, key: string | number): string {
  const path =
    typeof key === 'number'
      ? `${parent}[${key}]`
      : /^[A-Za-z_$][\w$-]*$/.test(key)
        ? parent
          ? `${parent}.${key}`
          : key
        : `${parent}[${JSON.stringify(key)}]`;
  return path.length > MAX_FIELD_LENGTH ? `${path.slice(0, MAX_FIELD_LENGTH)}…` : path;
}

/**
 * The first problem of a parsed JSON value (a body or a query object), or null: nesting deeper than
 * `maxDepth`, a reserved key (`__proto__`, `constructor`, `prototype`), or a NUL character (`\u0000`,
 * which PostgreSQL cannot store) in a string or a key. Never recurses.
 */
export function inputProblem(value: unknown, maxDepth = MAX_INPUT_DEPTH, root = ''): InputProblem | null {
  const stack: { value: unknown; field: string; depth: number }[] = [{ value, field: root, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, field, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000'))
        return { field: field || 'body', problem: 'must not contain the NUL character (\\u0000)' };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= maxDepth)
      return { field: field || 'body', problem: `nests objects and arrays deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], field: fieldOf(field, i), depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      if (RESERVED_KEYS.has(key)) return { field: fieldOf(field, key), problem: 'is not an accepted field' };
      if (key.includes('\u0000'))
        return {
          field: fieldOf(field, key.replaceAll('\u0000', '\\u0000')),
          problem: 'must not contain the NUL character (\\u0000)',
        };
      stack.push({ value: (v as Record<string, unknown>)[key], field: fieldOf(field, key), depth: depth + 1 });
    }
  }
  return null;
}
