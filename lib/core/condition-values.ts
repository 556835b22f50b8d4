import { EvaluationContext } from './types';

/**
 * How conditions read values: a context attribute, and an attribute or a condition's value as a scalar,
 * a number, an instant, a clock time or a time zone. Shared by the check of a condition (condition-check.ts)
 * and its compiled predicate (operators.ts), so that both agree on what is usable.
 */

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * The value of a context attribute: an own property of the context, or undefined. What an object
 * inherits (`constructor`, `__proto__`, `toString`, `valueOf`, `hasOwnProperty`…) is never an attribute.
 */
export function attributeOf(ctx: EvaluationContext, attribute: string): unknown {
  return hasOwn.call(ctx, attribute) ? ctx[attribute] : undefined;
}

/** A string, number or boolean. */
export function isScalar(v: unknown): v is string | number | boolean {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean';
}

/** A finite number, or a string holding one; undefined otherwise. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** An instant in milliseconds: a valid Date, a finite number or a parseable date string. */
export function toTime(v: unknown): number | undefined {
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

/** Minutes since midnight of an `HH:MM` clock time. */
export function parseClock(v: unknown): number | undefined {
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

/** Whether the runtime knows an IANA time zone. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
