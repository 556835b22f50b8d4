import semverValid from 'semver/functions/valid';
import { patternProblem } from './pattern';
import { OPERATORS, Operator } from './types';
import { TimeWindow, isScalar, isValidTimeZone, parseClock, toNumber, toTime } from './condition-values';

/** Whether a condition is well formed: a known operator with a value it can use. */

const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS);

/** Whether a string names a known operator. */
export function isOperator(value: unknown): value is Operator {
  return typeof value === 'string' && OPERATOR_SET.has(value);
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
