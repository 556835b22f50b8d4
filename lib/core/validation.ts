import { FeatureFlagsValidationError } from './errors';
import { conditionProblem } from './condition-check';
import { patternProblem } from './pattern';
import { ENVIRONMENT_TYPES, FLAG_STATUSES, FLAG_TYPES, FlagType, FlagValue } from './types';

/** Flag keys: letters, digits, `.`, `_`, `:` and `-`, starting with a letter or digit, at most 128. */
export const FLAG_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Environment and segment slugs: lower-case letters, digits, `_` and `-`, at most 64. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Refuses an invalid condition, naming `<at>.value` when its `matches` pattern is the problem. */
function assertCondition(condition: unknown, at: string): void {
  const problem = conditionProblem(condition);
  if (problem === null) return;
  const c = condition as { operator?: unknown; value?: unknown };
  fail(c.operator === 'matches' && problem === patternProblem(c.value) ? `${at}.value` : at, problem);
}

function fail(field: string, problem: string): never {
  throw new FeatureFlagsValidationError(field, problem);
}

function has(input: object, field: string): boolean {
  return (input as Record<string, unknown>)[field] !== undefined;
}

/**
 * The characters of `value`, counted as the SQL columns (`varchar(n)`) and JSON Schema's `maxLength` count
 * them: in Unicode code points, so a character outside the BMP (an emoji) counts once.
 */
export function characterCount(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/** Whether `value` has more than `max` characters (see `characterCount`). */
export function longerThan(value: string, max: number): boolean {
  return value.length > max && characterCount(value) > max;
}

/** Checks a flag key; throws FeatureFlagsValidationError naming `key`. */
export function assertFlagKey(key: unknown, field = 'key'): asserts key is string {
  if (typeof key !== 'string' || !FLAG_KEY_PATTERN.test(key)) {
    fail(
      field,
      `"${String(key)}" is not a valid flag key (letters, digits, ".", "_", ":", "-"; at most 128 characters)`,
    );
  }
}

/** Checks an environment slug; throws FeatureFlagsValidationError naming `field`. */
export function assertSlug(slug: unknown, field = 'slug'): asserts slug is string {
  if (typeof slug !== 'string' || !SLUG_PATTERN.test(slug)) {
    fail(field, `"${String(slug)}" is not a valid slug (lower-case letters, digits, "_", "-"; at most 64 characters)`);
  }
}

/** Checks a percentage (0–100 or null). */
export function assertPercentage(value: unknown, field: string): void {
  if (value === null || value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
    fail(field, `must be a number from 0 to 100, got ${JSON.stringify(value)}`);
  }
}

/** Whether a value fits a flag type. */
export function valueFitsType(type: FlagType, value: unknown): boolean {
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'json':
      return value !== undefined;
  }
}

/** Checks a served value against the flag type (null always passes: it means "inherit" or "none"). */
export function assertValue(type: FlagType, value: unknown, field: string): void {
  if (value === null || value === undefined) return;
  if (!valueFitsType(type, value))
    fail(field, `must be a ${type} value for a ${type} flag, got ${JSON.stringify(value)}`);
}

/** Checks a rule list (shape, operators, percentages, served values). */
export function assertRules(rules: unknown, field: string, type?: FlagType): void {
  if (rules === null || rules === undefined) return;
  if (!Array.isArray(rules)) fail(field, 'must be an array of rules');
  rules.forEach((rule: unknown, i: number) => {
    const at = `${field}[${i}]`;
    if (typeof rule !== 'object' || rule === null) fail(at, 'must be an object');
    const r = rule as Record<string, unknown>;
    if (typeof r.priority !== 'number' || !Number.isInteger(r.priority)) fail(`${at}.priority`, 'must be an integer');
    // Stored in an `integer` column: PostgreSQL and MySQL refuse anything outside 32 bits.
    if (r.priority < -2_147_483_648 || r.priority > 2_147_483_647)
      fail(`${at}.priority`, 'must be an integer from -2147483648 to 2147483647');
    if (r.enabled !== undefined && typeof r.enabled !== 'boolean') fail(`${at}.enabled`, 'must be a boolean');
    if (typeof r.serveEnabled !== 'boolean') fail(`${at}.serveEnabled`, 'must be a boolean');
    if (!Array.isArray(r.conditions)) fail(`${at}.conditions`, 'must be an array');
    (r.conditions as unknown[]).forEach((c, j) => assertCondition(c, `${at}.conditions[${j}]`));
    assertPercentage(r.rolloutPercentage, `${at}.rolloutPercentage`);
    if (type) assertValue(type, r.serveValue, `${at}.serveValue`);
  });
}

/** Checks a variant list. */
export function assertVariants(variants: unknown, field: string, type?: FlagType): void {
  if (variants === null || variants === undefined) return;
  if (!Array.isArray(variants)) fail(field, 'must be an array of variants');
  const seen = new Set<string>();
  variants.forEach((v: unknown, i: number) => {
    const at = `${field}[${i}]`;
    if (typeof v !== 'object' || v === null) fail(at, 'must be an object');
    const variant = v as Record<string, unknown>;
    if (typeof variant.key !== 'string' || variant.key === '') fail(`${at}.key`, 'must be a non-empty string');
    if (seen.has(variant.key)) fail(`${at}.key`, `"${variant.key}" appears twice`);
    seen.add(variant.key);
    if (typeof variant.weight !== 'number' || !(variant.weight >= 0) || !Number.isFinite(variant.weight)) {
      fail(`${at}.weight`, 'must be a number of at least 0');
    }
    if (type) assertValue(type, variant.value, `${at}.value`);
  });
}

/** Checks the writable fields of a flag (those present in `input`). */
export function assertFlagInput(input: object, partial = false): void {
  const f = input as Record<string, unknown>;
  if (!partial || has(f, 'key')) assertFlagKey(f.key);
  if (has(f, 'name') && typeof f.name !== 'string') fail('name', 'must be a string');
  if (has(f, 'type') && !(FLAG_TYPES as readonly unknown[]).includes(f.type)) {
    fail('type', `must be one of ${FLAG_TYPES.join(', ')}`);
  }
  if (has(f, 'status') && !(FLAG_STATUSES as readonly unknown[]).includes(f.status)) {
    fail('status', `must be one of ${FLAG_STATUSES.join(', ')}`);
  }
  if (has(f, 'defaultEnabled') && typeof f.defaultEnabled !== 'boolean') fail('defaultEnabled', 'must be a boolean');
  if (has(f, 'tags') && !(Array.isArray(f.tags) && f.tags.every((t) => typeof t === 'string'))) {
    fail('tags', 'must be an array of strings');
  }
  if (has(f, 'metadata') && (typeof f.metadata !== 'object' || f.metadata === null || Array.isArray(f.metadata))) {
    fail('metadata', 'must be an object');
  }
  const type = (f.type as FlagType | undefined) ?? 'boolean';
  assertValue(type, f.defaultValue, 'defaultValue');
  assertRules(f.rules, 'rules', type);
  assertVariants(f.variants, 'variants', type);
}

/** Checks the writable fields of an environment. */
export function assertEnvironmentInput(input: object, partial = false): void {
  const e = input as Record<string, unknown>;
  if (!partial || has(e, 'slug')) assertSlug(e.slug);
  if ((!partial || has(e, 'name')) && (typeof e.name !== 'string' || e.name.trim() === '')) {
    fail('name', 'must be a non-empty string');
  }
  if (has(e, 'type') && !(ENVIRONMENT_TYPES as readonly unknown[]).includes(e.type)) {
    fail('type', `must be one of ${ENVIRONMENT_TYPES.join(', ')}`);
  }
  if (has(e, 'settings') && (typeof e.settings !== 'object' || e.settings === null || Array.isArray(e.settings))) {
    fail('settings', 'must be an object');
  }
  const settings = e.settings as Record<string, unknown> | undefined;
  if (settings && settings.defaultEnabled !== undefined && typeof settings.defaultEnabled !== 'boolean') {
    fail('settings.defaultEnabled', 'must be a boolean');
  }
  if (has(e, 'isActive') && typeof e.isActive !== 'boolean') fail('isActive', 'must be a boolean');
}

/** Checks the overridable fields of an override against its flag's type. */
export function assertOverrideInput(input: object, type: FlagType): void {
  const o = input as Record<string, unknown>;
  if (o.enabled !== null && o.enabled !== undefined && typeof o.enabled !== 'boolean')
    fail('enabled', 'must be a boolean or null');
  assertPercentage(o.percentage, 'percentage');
  assertRules(o.rules, 'rules', type);
  assertValue(type, o.value, 'value');
  assertVariants(o.variants, 'variants', type);
  if (o.reason !== null && o.reason !== undefined && typeof o.reason !== 'string') fail('reason', 'must be a string');
}

/** Checks a segment's fields. */
export function assertSegmentInput(input: object): void {
  const s = input as Record<string, unknown>;
  assertSlug(s.key, 'key');
  if (!Array.isArray(s.conditions)) fail('conditions', 'must be an array');
  (s.conditions as unknown[]).forEach((c, j) => assertCondition(c, `conditions[${j}]`));
}

/** Narrow helper for the value of a flag of a type (used by getValue type checks). */
export function typeOfValue(value: FlagValue): FlagType {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  return 'json';
}
