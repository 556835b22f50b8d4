// The four functions, not the package's index: requiring 'semver' loads its 47 files, these load 12.
import semverEq from 'semver/functions/eq';
import semverGt from 'semver/functions/gt';
import semverLt from 'semver/functions/lt';
import semverValid from 'semver/functions/valid';
import { conditionProblem } from './condition-check';
import { TimeWindow, attributeOf, isScalar, parseClock, toNumber, toTime } from './condition-values';
import { MAX_MATCHED_LENGTH, MAX_MATCHED_VALUES, compilePattern } from './pattern';
import { Condition, EvaluationContext, Operator } from './types';

/**
 * What each operator does: conditions compiled into predicates over an evaluation context, once, when a
 * flag or segment is compiled. A condition that is not well formed (condition-check.ts) never holds.
 */

/** A compiled test on an evaluation context. */
export type Predicate = (context: EvaluationContext) => boolean;

/** Finds the compiled predicate of a segment by key at evaluation time (undefined: unknown segment). */
export type SegmentLookup = (key: string) => Predicate | undefined;

const NEVER: Predicate = () => false;

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

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
