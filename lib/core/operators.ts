// The four functions, not the package's index: requiring 'semver' loads its 47 files, these load 12.
import semverEq from 'semver/functions/eq';
import semverGt from 'semver/functions/gt';
import semverLt from 'semver/functions/lt';
import semverValid from 'semver/functions/valid';
import { MAX_MATCHED_LENGTH, MAX_MATCHED_VALUES, compilePattern, patternProblem } from './pattern';
import { Condition, EvaluationContext, OPERATORS, Operator } from './types';

/** A compiled test on an evaluation context. */
export type Predicate = (context: EvaluationContext) => boolean;

/** Finds the compiled predicate of a segment by key at evaluation time (undefined: unknown segment). */
export type SegmentLookup = (key: string) => Predicate | undefined;

const NEVER: Predicate = () => false;
const hasOwn = Object.prototype.hasOwnProperty;

/**
 * The value of a context attribute: an own property of the context, or undefined. What an object
 * inherits (`constructor`, `__proto__`, `toString`, `valueOf`, `hasOwnProperty`…) is never an attribute.
 */
export function attributeOf(ctx: EvaluationContext, attribute: string): unknown {
  return hasOwn.call(ctx, attribute) ? ctx[attribute] : undefined;
}
const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS);

/** Whether a string names a known operator. */
export function isOperator(value: unknown): value is Operator {
  return typeof value === 'string' && OPERATOR_SET.has(value);
}

function isScalar(v: unknown): v is string | number | boolean {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean';
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function toTime(v: unknown): number | undefined {
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v !== '') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function parseClock(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(v.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** The value of a `time_window` condition. */
export interface TimeWindow {
  /** Start of the window, `HH:MM` (inclusive). */
  start: string;
  /** End of the window, `HH:MM` (exclusive); a window may wrap past midnight. */
  end: string;
  /** IANA time zone; default UTC. */
  timezone?: string;
  /** Days of the week (0 = Sunday … 6 = Saturday); default every day. */
  days?: number[];
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * What is wrong with a condition, or null when it is valid. Used by every write path so that a bad rule
 * is refused when it is saved, not discovered when it is evaluated.
 */
export function conditionProblem(condition: unknown): string | null {
  if (typeof condition !== 'object' || condition === null) return 'must be an object';
  const c = condition as Record<string, unknown>;
  if (typeof c.attribute !== 'string' || c.attribute.trim() === '') {
    return 'attribute must be a non-empty string';
  }
  if (!isOperator(c.operator)) {
    return `operator "${String(c.operator)}" is unknown; expected one of ${OPERATORS.join(', ')}`;
  }
  if (c.negate !== undefined && typeof c.negate !== 'boolean') return 'negate must be a boolean';
  if (c.caseInsensitive !== undefined && typeof c.caseInsensitive !== 'boolean') {
    return 'caseInsensitive must be a boolean';
  }
  const v = c.value;
  switch (c.operator) {
    case 'in':
    case 'not_in':
      return Array.isArray(v) && v.every(isScalar) ? null : `${c.operator} needs an array of strings or numbers`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return toNumber(v) !== undefined ? null : `${c.operator} needs a number`;
    case 'matches':
      return patternProblem(v);
    case 'semver_eq':
    case 'semver_gt':
    case 'semver_lt':
      return typeof v === 'string' && semverValid(v) ? null : `${c.operator} needs a semantic version such as "1.2.3"`;
    case 'date_after':
    case 'date_before':
      return toTime(v) !== undefined ? null : `${c.operator} needs an ISO-8601 date or a timestamp`;
    case 'in_segment':
    case 'not_in_segment':
      return typeof v === 'string' && v !== '' ? null : `${c.operator} needs a segment key`;
    case 'time_window': {
      const w = v as Partial<TimeWindow> | undefined;
      if (!w || typeof w !== 'object') return 'time_window needs {start: "HH:MM", end: "HH:MM", timezone?, days?}';
      if (parseClock(w.start) === undefined || parseClock(w.end) === undefined) {
        return 'time_window start and end must be "HH:MM"';
      }
      if (w.timezone !== undefined && (typeof w.timezone !== 'string' || !isValidTimeZone(w.timezone))) {
        return `time_window timezone "${String(w.timezone)}" is not an IANA time zone`;
      }
      if (
        w.days !== undefined &&
        !(Array.isArray(w.days) && w.days.every((d) => Number.isInteger(d) && d >= 0 && d <= 6))
      ) {
        return 'time_window days must be integers 0 (Sunday) to 6';
      }
      return null;
    }
    default:
      return isScalar(v) ? null : `${c.operator} needs a string, number or boolean value`;
  }
}

function fold(v: unknown, ci: boolean): string {
  const s = String(v);
  return ci ? s.toLowerCase() : s;
}

function stringTest(attribute: string, ci: boolean, test: (actual: string) => boolean): Predicate {
  return (ctx) => {
    const a = attributeOf(ctx, attribute);
    if (a === undefined || a === null) return false;
    if (Array.isArray(a)) return a.some((x) => isScalar(x) && test(fold(x, ci)));
    return isScalar(a) && test(fold(a, ci));
  };
}

function numberTest(attribute: string, test: (actual: number) => boolean): Predicate {
  return (ctx) => {
    const n = toNumber(attributeOf(ctx, attribute));
    return n !== undefined && test(n);
  };
}

function dateTest(attribute: string, test: (actual: number) => boolean): Predicate {
  return (ctx) => {
    const raw = attributeOf(ctx, attribute);
    const t = raw === undefined && attribute === 'currentTime' ? Date.now() : toTime(raw);
    return t !== undefined && test(t);
  };
}

function semverTest(attribute: string, test: (actual: string) => boolean): Predicate {
  return (ctx) => {
    const a = attributeOf(ctx, attribute);
    if (typeof a !== 'string') return false;
    const v = semverValid(a);
    return v !== null && test(v);
  };
}

function timeWindowTest(attribute: string, w: TimeWindow): Predicate {
  const start = parseClock(w.start)!;
  const end = parseClock(w.end)!;
  const days = w.days ? new Set(w.days) : undefined;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: w.timezone ?? 'UTC',
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    weekday: 'short',
  });
  return (ctx) => {
    const raw = attributeOf(ctx, attribute);
    const t = raw === undefined ? Date.now() : toTime(raw);
    if (t === undefined) return false;
    let hour = 0;
    let minute = 0;
    let weekday = 0;
    for (const part of format.formatToParts(t)) {
      if (part.type === 'hour') hour = Number(part.value);
      else if (part.type === 'minute') minute = Number(part.value);
      else if (part.type === 'weekday') weekday = WEEKDAYS[part.value] ?? 0;
    }
    const clock = hour * 60 + minute;
    if (start <= end) {
      return clock >= start && clock < end && (!days || days.has(weekday));
    }
    // The window wraps midnight: the part after midnight belongs to the previous day's window.
    if (clock >= start) return !days || days.has(weekday);
    if (clock < end) return !days || days.has((weekday + 6) % 7);
    return false;
  };
}

function basePredicate(c: Condition, segments: SegmentLookup): Predicate {
  const attr = c.attribute;
  const ci = c.caseInsensitive === true;
  const v = c.value;
  switch (c.operator) {
    case 'eq':
    case 'ne': {
      let eq: Predicate;
      if (typeof v === 'number') eq = numberTest(attr, (n) => n === v);
      else if (typeof v === 'boolean') {
        eq = (ctx) => {
          const a = attributeOf(ctx, attr);
          return a === v || (typeof a === 'string' && a.toLowerCase() === String(v));
        };
      } else {
        const expected = fold(v, ci);
        eq = (ctx) => {
          const a = attributeOf(ctx, attr);
          return isScalar(a) && fold(a, ci) === expected;
        };
      }
      if (c.operator === 'eq') return eq;
      return (ctx) => {
        const a = attributeOf(ctx, attr);
        return a !== undefined && a !== null && !eq(ctx);
      };
    }
    case 'gt':
      return numberTest(attr, (n) => n > toNumber(v)!);
    case 'gte':
      return numberTest(attr, (n) => n >= toNumber(v)!);
    case 'lt':
      return numberTest(attr, (n) => n < toNumber(v)!);
    case 'lte':
      return numberTest(attr, (n) => n <= toNumber(v)!);
    case 'in':
    case 'not_in': {
      const set = new Set((v as unknown[]).map((x) => fold(x, ci)));
      const inSet: Predicate = ci
        ? (ctx) => {
            const a = attributeOf(ctx, attr);
            return isScalar(a) && set.has(String(a).toLowerCase());
          }
        : (ctx) => {
            const a = attributeOf(ctx, attr);
            // A string is its own String(): the common case skips the conversion.
            return typeof a === 'string' ? set.has(a) : isScalar(a) && set.has(String(a));
          };
      if (c.operator === 'in') return inSet;
      return (ctx) => isScalar(attributeOf(ctx, attr)) && !inSet(ctx);
    }
    case 'contains':
    case 'not_contains': {
      const needle = fold(v, ci);
      // A string attribute contains a substring; a list attribute contains an element.
      const contains: Predicate = (ctx) => {
        const a = attributeOf(ctx, attr);
        if (Array.isArray(a)) return a.some((x) => isScalar(x) && fold(x, ci) === needle);
        return isScalar(a) && fold(a, ci).includes(needle);
      };
      if (c.operator === 'contains') return contains;
      return (ctx) => {
        const a = attributeOf(ctx, attr);
        return a !== undefined && a !== null && !contains(ctx);
      };
    }
    case 'starts_with': {
      const prefix = fold(v, ci);
      return stringTest(attr, ci, (s) => s.startsWith(prefix));
    }
    case 'ends_with': {
      const suffix = fold(v, ci);
      return stringTest(attr, ci, (s) => s.endsWith(suffix));
    }
    case 'matches': {
      const pattern = compilePattern(String(v), ci);
      return (ctx) => {
        const a = attributeOf(ctx, attr);
        if (typeof a === 'string') return pattern.test(a);
        if (Array.isArray(a))
          return a.length <= MAX_MATCHED_VALUES && a.some((x) => isScalar(x) && pattern.test(String(x)));
        return isScalar(a) && pattern.test(String(a));
      };
    }
    case 'semver_eq': {
      const target = String(v);
      return semverTest(attr, (a) => semverEq(a, target));
    }
    case 'semver_gt': {
      const target = String(v);
      return semverTest(attr, (a) => semverGt(a, target));
    }
    case 'semver_lt': {
      const target = String(v);
      return semverTest(attr, (a) => semverLt(a, target));
    }
    case 'date_after': {
      const t = toTime(v)!;
      return dateTest(attr, (a) => a > t);
    }
    case 'date_before': {
      const t = toTime(v)!;
      return dateTest(attr, (a) => a < t);
    }
    case 'time_window':
      return timeWindowTest(attr, v as TimeWindow);
    case 'in_segment':
    case 'not_in_segment': {
      const key = String(v);
      // `negate` is applied here rather than by compileCondition, so that an unknown segment stays false
      // whatever `negate` says (fail closed), as it does for not_in_segment.
      const wanted = (c.operator === 'in_segment') !== (c.negate === true);
      return (ctx) => {
        const segment = segments(key);
        if (!segment) return false;
        return segment(ctx) === wanted;
      };
    }
    default:
      return NEVER;
  }
}

/**
 * Compiles a condition into a predicate. Invalid conditions (unknown operator, malformed value) compile
 * to a predicate that is always false: evaluation fails closed and never throws. `negate` inverts a
 * result only when the attribute is present.
 */
export function compileCondition(condition: Condition, segments: SegmentLookup): Predicate {
  if (conditionProblem(condition) !== null) return NEVER;
  const base = basePredicate(condition, segments);
  if (condition.negate !== true) return base;
  // Segment operators apply `negate` themselves (see basePredicate).
  if (condition.operator === 'in_segment' || condition.operator === 'not_in_segment') return base;
  const attr = condition.attribute;
  const usesClock =
    condition.operator === 'time_window' ||
    (attr === 'currentTime' && (condition.operator === 'date_after' || condition.operator === 'date_before'));
  if (usesClock) return (ctx) => !base(ctx);
  // A negated condition holds only when the attribute is there and usable by the operator: an
  // unparseable number, date or version stays false (fail closed), negated or not.
  const usable = usableBy(condition.operator);
  return (ctx) => {
    const a = attributeOf(ctx, attr);
    return a !== undefined && a !== null && usable(a) && !base(ctx);
  };
}

function usableBy(operator: Operator): (value: unknown) => boolean {
  switch (operator) {
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return (v) => toNumber(v) !== undefined;
    case 'date_after':
    case 'date_before':
      return (v) => toTime(v) !== undefined;
    case 'semver_eq':
    case 'semver_gt':
    case 'semver_lt':
      return (v) => typeof v === 'string' && semverValid(v) !== null;
    case 'matches':
      // A value too long (or a list too long) to be tested is not usable: negated, it stays false.
      return (v) =>
        (isScalar(v) && String(v).length <= MAX_MATCHED_LENGTH) ||
        (Array.isArray(v) &&
          v.length <= MAX_MATCHED_VALUES &&
          v.every((x) => !isScalar(x) || String(x).length <= MAX_MATCHED_LENGTH));
    case 'contains':
    case 'not_contains':
    case 'starts_with':
    case 'ends_with':
      return (v) => isScalar(v) || Array.isArray(v);
    default:
      return isScalar;
  }
}

/** Compiles ANDed conditions into one predicate (no conditions: always true). */
export function compileConditions(conditions: readonly Condition[], segments: SegmentLookup): Predicate {
  const predicates = conditions.map((c) => compileCondition(c, segments));
  switch (predicates.length) {
    case 0:
      return () => true;
    case 1:
      return predicates[0];
    case 2: {
      const [a, b] = predicates;
      return (ctx) => a(ctx) && b(ctx);
    }
    default:
      return (ctx) => {
        for (let i = 0; i < predicates.length; i++) if (!predicates[i](ctx)) return false;
        return true;
      };
  }
}
