import {
  Condition,
  EvaluationContext,
  FlagSnapshot,
  OPERATORS,
  Operator,
  Predicate,
  SegmentLookup,
  compileCondition,
  compileConditions,
  conditionProblem,
  isOperator,
} from '../../lib/core';
import { cond, env, flag, rule, segment, snapshot } from './fixtures';

/** A lookup with one segment `beta` that matches `plan === 'beta'`. */
const betaSegment: Predicate = (ctx) => ctx.plan === 'beta';
const lookup: SegmentLookup = (key) => (key === 'beta' ? betaSegment : undefined);

function test(c: Condition, ctx: EvaluationContext): boolean {
  return compileCondition(c, lookup)(ctx);
}

const T_JAN_3_10H = '2024-01-03T10:00:00Z'; // a Wednesday

interface Case {
  operator: Operator;
  value: unknown;
  match: unknown;
  noMatch: unknown;
  attribute?: string;
}

/** One matching and one non-matching attribute value for every operator (attribute `a` unless stated). */
const CASES: Case[] = [
  { operator: 'eq', value: 'FR', match: 'FR', noMatch: 'DE' },
  { operator: 'ne', value: 'FR', match: 'DE', noMatch: 'FR' },
  { operator: 'gt', value: 10, match: 11, noMatch: 10 },
  { operator: 'gte', value: 10, match: 10, noMatch: 9.99 },
  { operator: 'lt', value: 10, match: 9, noMatch: 10 },
  { operator: 'lte', value: 10, match: 10, noMatch: 10.5 },
  { operator: 'in', value: ['FR', 'DE'], match: 'DE', noMatch: 'US' },
  { operator: 'not_in', value: ['FR', 'DE'], match: 'US', noMatch: 'FR' },
  { operator: 'contains', value: 'admin', match: 'superadmin', noMatch: 'user' },
  { operator: 'not_contains', value: 'admin', match: 'user', noMatch: 'superadmin' },
  { operator: 'starts_with', value: 'acme-', match: 'acme-42', noMatch: 'x-acme-42' },
  { operator: 'ends_with', value: '@acme.io', match: 'bob@acme.io', noMatch: 'bob@acme.io.evil.com' },
  { operator: 'matches', value: '^user-\\d+$', match: 'user-42', noMatch: 'user-x' },
  { operator: 'semver_eq', value: '1.2.3', match: '1.2.3', noMatch: '1.2.4' },
  { operator: 'semver_gt', value: '1.2.3', match: '1.10.0', noMatch: '1.2.3' },
  { operator: 'semver_lt', value: '2.0.0', match: '1.99.9', noMatch: '2.0.0' },
  { operator: 'in_segment', value: 'beta', attribute: 'plan', match: 'beta', noMatch: 'free' },
  { operator: 'not_in_segment', value: 'beta', attribute: 'plan', match: 'free', noMatch: 'beta' },
  {
    operator: 'date_after',
    value: '2024-01-01T00:00:00Z',
    match: '2024-06-01T00:00:00Z',
    noMatch: '2023-12-31T23:59:59Z',
  },
  {
    operator: 'date_before',
    value: '2024-01-01T00:00:00Z',
    match: '2023-12-31T23:59:59Z',
    noMatch: '2024-01-01T00:00:00Z',
  },
  {
    operator: 'time_window',
    value: { start: '09:00', end: '17:00' },
    match: T_JAN_3_10H,
    noMatch: '2024-01-03T17:00:00Z',
  },
];

/** Operators that test the named attribute (segment operators test the segment; time_window defaults to now). */
const ATTRIBUTE_OPERATORS = CASES.filter((c) => !['in_segment', 'not_in_segment', 'time_window'].includes(c.operator));

describe('operators', () => {
  it('the table covers every operator in OPERATORS', () => {
    expect(CASES.map((c) => c.operator).sort()).toEqual([...OPERATORS].sort());
    expect(OPERATORS.every(isOperator)).toBe(true);
    expect(isOperator('like')).toBe(false);
    expect(isOperator(undefined)).toBe(false);
  });

  describe.each(CASES)('$operator', ({ operator, value, match, noMatch, attribute = 'a' }) => {
    const c: Condition = { attribute, operator, value };

    it('is a valid condition', () => {
      expect(conditionProblem(c)).toBeNull();
    });

    it('holds for a matching context and not for a non-matching one', () => {
      expect(test(c, { [attribute]: match })).toBe(true);
      expect(test(c, { [attribute]: noMatch })).toBe(false);
    });

    it('negate inverts both results', () => {
      const n = { ...c, negate: true };
      expect(test(n, { [attribute]: match })).toBe(false);
      expect(test(n, { [attribute]: noMatch })).toBe(true);
    });
  });

  describe.each(ATTRIBUTE_OPERATORS)('$operator with a missing attribute', ({ operator, value }) => {
    it('is false, negated or not (fail closed)', () => {
      for (const negate of [false, true]) {
        const c: Condition = { attribute: 'a', operator, value, negate };
        expect(test(c, {})).toBe(false);
        expect(test(c, { a: undefined })).toBe(false);
        expect(test(c, { a: null })).toBe(false);
        expect(test(c, { other: 'x' })).toBe(false);
      }
    });
  });

  describe('caseInsensitive', () => {
    it.each<[Operator, unknown, string, string]>([
      ['eq', 'fr', 'FR', 'DE'],
      ['ne', 'fr', 'DE', 'FR'],
      ['in', ['fr', 'de'], 'DE', 'US'],
      ['not_in', ['fr', 'de'], 'US', 'FR'],
      ['contains', 'ADMIN', 'SuperAdmin', 'user'],
      ['not_contains', 'ADMIN', 'user', 'SuperAdmin'],
      ['starts_with', 'ACME-', 'acme-1', 'x-acme'],
      ['ends_with', '@ACME.IO', 'Bob@Acme.io', 'bob@acme.com'],
      ['matches', '^USER-\\d+$', 'user-1', 'admin-1'],
    ])('%s folds case only when asked', (operator, value, match, noMatch) => {
      const ci: Condition = { attribute: 'a', operator, value, caseInsensitive: true };
      const cs: Condition = { attribute: 'a', operator, value };
      expect(test(ci, { a: match })).toBe(true);
      expect(test(ci, { a: noMatch })).toBe(false);
      // Without caseInsensitive the case difference matters.
      expect(test(cs, { a: match })).toBe(operator === 'ne' || operator === 'not_in' || operator === 'not_contains');
    });

    it('combines with negate', () => {
      const c: Condition = { attribute: 'a', operator: 'eq', value: 'fr', caseInsensitive: true, negate: true };
      expect(test(c, { a: 'FR' })).toBe(false);
      expect(test(c, { a: 'DE' })).toBe(true);
    });
  });

  describe('eq / ne details', () => {
    it('compares numbers numerically, including numeric strings', () => {
      expect(test(cond('age', 'eq', 30), { age: '30' })).toBe(true);
      expect(test(cond('age', 'eq', 30), { age: 30.0 })).toBe(true);
      expect(test(cond('age', 'eq', 30), { age: '31' })).toBe(false);
      expect(test(cond('age', 'ne', 30), { age: 31 })).toBe(true);
    });

    it('compares booleans with booleans and "true"/"false" strings', () => {
      expect(test(cond('beta', 'eq', true), { beta: true })).toBe(true);
      expect(test(cond('beta', 'eq', true), { beta: 'TRUE' })).toBe(true);
      expect(test(cond('beta', 'eq', true), { beta: false })).toBe(false);
      expect(test(cond('beta', 'eq', false), { beta: 'false' })).toBe(true);
      expect(test(cond('beta', 'ne', true), { beta: false })).toBe(true);
    });

    it('does not match objects or arrays with eq', () => {
      expect(test(cond('a', 'eq', 'x'), { a: ['x'] })).toBe(false);
      expect(test(cond('a', 'eq', '[object Object]'), { a: {} })).toBe(false);
    });
  });

  describe('numeric comparisons', () => {
    it('accept numeric strings on either side', () => {
      expect(test(cond('a', 'gt', 10), { a: '11' })).toBe(true);
      expect(test(cond('a', 'gt', 10), { a: '9' })).toBe(false);
      expect(test(cond('a', 'lt', '10'), { a: '9.5' })).toBe(true);
      expect(test(cond('a', 'lt', '10'), { a: 10 })).toBe(false);
      expect(test(cond('a', 'gte', '1e3'), { a: 1000 })).toBe(true);
      expect(test(cond('a', 'lte', -1), { a: ' -2 ' })).toBe(true);
    });

    it('are false for non-numeric attributes', () => {
      for (const a of ['abc', '', '  ', NaN, Infinity, true, [11], { n: 11 }]) {
        expect(test(cond('a', 'gt', 10), { a })).toBe(false);
        expect(test(cond('a', 'lt', 10), { a })).toBe(false);
      }
    });
  });

  describe('in / not_in', () => {
    it('match numbers and strings by their string form', () => {
      expect(test(cond('id', 'in', [1, 2, 3]), { id: 2 })).toBe(true);
      expect(test(cond('id', 'in', [1, 2, 3]), { id: '2' })).toBe(true);
      expect(test(cond('id', 'in', [1, 2, 3]), { id: 4 })).toBe(false);
      expect(test(cond('id', 'not_in', [1, 2, 3]), { id: 4 })).toBe(true);
      expect(test(cond('id', 'in', []), { id: 4 })).toBe(false);
      expect(test(cond('id', 'not_in', []), { id: 4 })).toBe(true);
    });

    it('are false for a non-scalar attribute', () => {
      expect(test(cond('id', 'in', ['x']), { id: ['x'] })).toBe(false);
      expect(test(cond('id', 'not_in', ['x']), { id: ['y'] })).toBe(false);
    });
  });

  describe('string operators on arrays', () => {
    it('contains holds when an element of an array attribute contains the value', () => {
      expect(test(cond('tags', 'contains', 'beta'), { tags: ['pro', 'beta'] })).toBe(true);
      expect(test(cond('tags', 'contains', 'beta'), { tags: ['pro', 'free'] })).toBe(false);
      expect(test(cond('tags', 'contains', 'beta'), { tags: [] })).toBe(false);
      expect(test(cond('tags', 'contains', 'BETA', { caseInsensitive: true }), { tags: ['Beta'] })).toBe(true);
      expect(test(cond('ids', 'contains', 7), { ids: [5, 7] })).toBe(true);
    });

    it('not_contains holds when no element contains the value', () => {
      expect(test(cond('tags', 'not_contains', 'beta'), { tags: ['pro', 'free'] })).toBe(true);
      expect(test(cond('tags', 'not_contains', 'beta'), { tags: ['pro', 'beta'] })).toBe(false);
      expect(test(cond('tags', 'not_contains', 'beta'), { tags: [] })).toBe(true);
    });

    it('starts_with / ends_with / matches test every element', () => {
      expect(test(cond('emails', 'ends_with', '@acme.io'), { emails: ['a@x.com', 'b@acme.io'] })).toBe(true);
      expect(test(cond('emails', 'starts_with', 'b@'), { emails: ['a@x.com'] })).toBe(false);
      expect(test(cond('emails', 'matches', '^b@'), { emails: ['a@x.com', 'b@acme.io'] })).toBe(true);
    });

    it('skip non-scalar elements', () => {
      expect(test(cond('tags', 'contains', 'beta'), { tags: [{ beta: true }, ['beta']] })).toBe(false);
    });

    it('contains on an array tests membership, not substrings of elements', () => {
      expect(test(cond('roles', 'contains', 'admin'), { roles: ['admin-readonly'] })).toBe(false);
      expect(test(cond('roles', 'contains', 'admin'), { roles: ['admin-readonly', 'admin'] })).toBe(true);
      expect(test(cond('name', 'contains', 'admin'), { name: 'admin-readonly' })).toBe(true);
    });
  });

  describe('negated conditions on unusable values fail closed', () => {
    it.each<[Operator, unknown, unknown]>([
      ['gt', 10, 'abc'],
      ['lte', 10, 'ten'],
      ['date_after', '2024-01-01T00:00:00Z', 'not a date'],
      ['semver_gt', '1.0.0', 'v-one'],
      ['eq', 'x', { nested: true }],
      ['in', ['a'], ['a']],
    ])('%s with value %p against %p is false when negated', (operator, value, actual) => {
      expect(test(cond('a', operator, value), { a: actual })).toBe(false);
      expect(test(cond('a', operator, value, { negate: true }), { a: actual })).toBe(false);
    });

    it('an attribute name inherited from Object.prototype is not a present value', () => {
      expect(test(cond('constructor', 'eq', 'x', { negate: true }), {})).toBe(false);
    });
  });

  describe('semver', () => {
    it('compares semantic versions, not strings', () => {
      expect(test(cond('v', 'semver_gt', '1.9.0'), { v: '1.10.0' })).toBe(true);
      expect(test(cond('v', 'semver_lt', '1.10.0'), { v: '1.9.0' })).toBe(true);
      expect(test(cond('v', 'semver_lt', '1.2.3'), { v: '1.2.3-beta.1' })).toBe(true);
      expect(test(cond('v', 'semver_eq', '1.2.3'), { v: 'v1.2.3' })).toBe(true);
    });

    it('is false for an attribute that is not a version', () => {
      for (const v of ['banana', '1.2', 123, '']) {
        expect(test(cond('v', 'semver_eq', '1.2.3'), { v })).toBe(false);
        expect(test(cond('v', 'semver_gt', '0.0.1'), { v })).toBe(false);
      }
    });

    it('needs a valid version as value', () => {
      expect(conditionProblem(cond('v', 'semver_gt', '1.2'))).toContain('semantic version');
      expect(test(cond('v', 'semver_gt', '1.2'), { v: '9.9.9' })).toBe(false);
    });
  });

  describe('date_after / date_before', () => {
    afterEach(() => vi.useRealTimers());

    it('accept ISO strings, timestamps and Date objects', () => {
      const after = cond('signup', 'date_after', '2024-01-01T00:00:00Z');
      expect(test(after, { signup: Date.parse('2024-02-01T00:00:00Z') })).toBe(true);
      expect(test(after, { signup: new Date('2023-02-01T00:00:00Z') })).toBe(false);
      expect(test(cond('signup', 'date_before', Date.parse('2024-01-01T00:00:00Z')), { signup: '2023-06-01' })).toBe(
        true,
      );
      expect(test(after, { signup: 'not a date' })).toBe(false);
      expect(test(after, { signup: new Date('invalid') })).toBe(false);
    });

    it('compare against now when the attribute is currentTime and absent', () => {
      vi.useFakeTimers({ now: new Date('2025-03-01T12:00:00Z') });
      expect(test(cond('currentTime', 'date_after', '2025-01-01T00:00:00Z'), {})).toBe(true);
      expect(test(cond('currentTime', 'date_after', '2025-06-01T00:00:00Z'), {})).toBe(false);
      expect(test(cond('currentTime', 'date_before', '2025-06-01T00:00:00Z'), {})).toBe(true);
      expect(test(cond('currentTime', 'date_before', '2025-01-01T00:00:00Z'), {})).toBe(false);
      // Negation still applies to "now".
      expect(test(cond('currentTime', 'date_before', '2025-01-01T00:00:00Z', { negate: true }), {})).toBe(true);
      // An explicit currentTime wins over now.
      expect(
        test(cond('currentTime', 'date_after', '2025-01-01T00:00:00Z'), { currentTime: '2024-01-01T00:00:00Z' }),
      ).toBe(false);
      // Other attributes do not default to now.
      expect(test(cond('signup', 'date_after', '2025-01-01T00:00:00Z'), {})).toBe(false);
    });
  });

  describe('time_window', () => {
    afterEach(() => vi.useRealTimers());
    const at = (iso: string) => ({ ts: iso });
    const win = (value: object, extra: Partial<Condition> = {}): Condition => ({
      attribute: 'ts',
      operator: 'time_window',
      value,
      ...extra,
    });

    it('is inclusive at start and exclusive at end, on an explicit timestamp attribute', () => {
      const c = win({ start: '09:00', end: '17:00' });
      expect(test(c, at('2024-01-03T09:00:00Z'))).toBe(true);
      expect(test(c, at('2024-01-03T16:59:00Z'))).toBe(true);
      expect(test(c, at('2024-01-03T17:00:00Z'))).toBe(false);
      expect(test(c, at('2024-01-03T08:59:00Z'))).toBe(false);
      expect(test(c, { ts: Date.parse('2024-01-03T12:00:00Z') })).toBe(true);
      expect(test(c, { ts: new Date('2024-01-03T12:00:00Z') })).toBe(true);
    });

    it('handles a window that wraps midnight', () => {
      const c = win({ start: '22:00', end: '02:00' });
      expect(test(c, at('2024-01-03T22:00:00Z'))).toBe(true);
      expect(test(c, at('2024-01-03T23:30:00Z'))).toBe(true);
      expect(test(c, at('2024-01-04T00:00:00Z'))).toBe(true);
      expect(test(c, at('2024-01-04T01:59:00Z'))).toBe(true);
      expect(test(c, at('2024-01-04T02:00:00Z'))).toBe(false);
      expect(test(c, at('2024-01-03T21:59:00Z'))).toBe(false);
      expect(test(c, at('2024-01-03T12:00:00Z'))).toBe(false);
    });

    it('reads the clock in the given time zone', () => {
      const c = win({ start: '09:00', end: '17:00', timezone: 'Asia/Tokyo' }); // UTC+9, no DST
      expect(test(c, at('2024-01-03T01:00:00Z'))).toBe(true); // 10:00 in Tokyo
      expect(test(c, at('2024-01-03T10:00:00Z'))).toBe(false); // 19:00 in Tokyo
      const ny = win({ start: '09:00', end: '10:00', timezone: 'America/New_York' });
      expect(test(ny, at('2024-01-03T14:30:00Z'))).toBe(true); // EST: 09:30
      expect(test(ny, at('2024-07-03T13:30:00Z'))).toBe(true); // EDT: 09:30
      expect(test(ny, at('2024-07-03T14:30:00Z'))).toBe(false); // EDT: 10:30
    });

    it('limits the window to the given days (0 = Sunday)', () => {
      const weekdays = win({ start: '00:00', end: '23:59', days: [1, 2, 3, 4, 5] });
      expect(test(weekdays, at('2024-01-05T12:00:00Z'))).toBe(true); // Friday
      expect(test(weekdays, at('2024-01-06T12:00:00Z'))).toBe(false); // Saturday
      expect(test(weekdays, at('2024-01-07T12:00:00Z'))).toBe(false); // Sunday
    });

    it('counts the after-midnight part of a wrapping window as the previous day', () => {
      const fridayNight = win({ start: '22:00', end: '02:00', days: [5] });
      expect(test(fridayNight, at('2024-01-05T23:00:00Z'))).toBe(true); // Friday 23:00
      expect(test(fridayNight, at('2024-01-06T01:00:00Z'))).toBe(true); // Saturday 01:00, Friday's window
      expect(test(fridayNight, at('2024-01-06T23:00:00Z'))).toBe(false); // Saturday 23:00
      expect(test(fridayNight, at('2024-01-05T01:00:00Z'))).toBe(false); // Friday 01:00, Thursday's window
    });

    it('takes the weekday in the time zone too', () => {
      const fridays = win({ start: '00:00', end: '23:59', days: [5], timezone: 'Asia/Tokyo' });
      expect(test(fridays, at('2024-01-05T12:00:00Z'))).toBe(true); // Friday 21:00 in Tokyo
      expect(test(fridays, at('2024-01-05T20:00:00Z'))).toBe(false); // Saturday 05:00 in Tokyo
      expect(test(fridays, at('2024-01-04T20:00:00Z'))).toBe(true); // Friday 05:00 in Tokyo, Thursday in UTC
    });

    it('uses now when the attribute is absent, and is false for an unreadable timestamp', () => {
      vi.useFakeTimers({ now: new Date(T_JAN_3_10H) });
      expect(test(win({ start: '09:00', end: '11:00' }), {})).toBe(true);
      expect(test(win({ start: '11:00', end: '12:00' }), {})).toBe(false);
      expect(test(win({ start: '11:00', end: '12:00' }, { negate: true }), {})).toBe(true);
      expect(test(win({ start: '09:00', end: '11:00' }), { ts: 'garbage' })).toBe(false);
    });

    it('refuses malformed windows', () => {
      expect(conditionProblem(win({ start: '9am', end: '17:00' }))).toBe('time_window start and end must be "HH:MM"');
      expect(conditionProblem(win({ start: '24:00', end: '17:00' }))).toBe('time_window start and end must be "HH:MM"');
      expect(conditionProblem(win({ start: '09:00', end: '17:00', timezone: 'Mars/Olympus' }))).toContain(
        'not an IANA time zone',
      );
      expect(conditionProblem(win({ start: '09:00', end: '17:00', days: [7] }))).toContain('days must be integers');
      expect(conditionProblem({ attribute: 'ts', operator: 'time_window', value: '09:00-17:00' })).toContain(
        'time_window needs',
      );
      expect(test(win({ start: '09:00', end: '17:00', timezone: 'Mars/Olympus' }), at(T_JAN_3_10H))).toBe(false);
    });
  });

  describe('in_segment / not_in_segment', () => {
    function segSnapshot(): FlagSnapshot {
      return snapshot({
        environments: [env('prod')],
        flags: [
          flag('in-beta-fr', {
            defaultEnabled: true,
            rules: [rule(1, [cond('segment', 'in_segment', 'beta-fr')], { serveValue: null })],
          }),
          flag('out-beta-fr', {
            defaultEnabled: true,
            rules: [rule(1, [cond('segment', 'not_in_segment', 'beta-fr')])],
          }),
          flag('in-ghost', { defaultEnabled: true, rules: [rule(1, [cond('segment', 'in_segment', 'ghost')])] }),
          flag('out-ghost', { defaultEnabled: true, rules: [rule(1, [cond('segment', 'not_in_segment', 'ghost')])] }),
          flag('in-ghost-negated', {
            defaultEnabled: true,
            rules: [rule(1, [cond('segment', 'in_segment', 'ghost', { negate: true })])],
          }),
          flag('out-ghost-negated', {
            defaultEnabled: true,
            rules: [rule(1, [cond('segment', 'not_in_segment', 'ghost', { negate: true })])],
          }),
          flag('in-orphan', { defaultEnabled: true, rules: [rule(1, [cond('segment', 'in_segment', 'orphan')])] }),
          flag('in-loop', { defaultEnabled: true, rules: [rule(1, [cond('segment', 'in_segment', 'loop-a')])] }),
        ],
        segments: [
          segment('beta', [cond('email', 'ends_with', '@beta.io')]),
          segment('beta-fr', [cond('country', 'eq', 'FR')], 'beta'),
          segment('orphan', [], 'missing-parent'),
          segment('loop-a', [], 'loop-b'),
          segment('loop-b', [], 'loop-a'),
        ],
      });
    }
    const matched = (s: FlagSnapshot, key: string, ctx: EvaluationContext) =>
      s.evaluate(key, 'prod', ctx, false).reason === 'TARGETING_MATCH';

    it('a segment with a parent matches only when its parent matches too', () => {
      const s = segSnapshot();
      expect(matched(s, 'in-beta-fr', { email: 'a@beta.io', country: 'FR' })).toBe(true);
      expect(matched(s, 'in-beta-fr', { email: 'a@beta.io', country: 'DE' })).toBe(false);
      expect(matched(s, 'in-beta-fr', { email: 'a@gmail.com', country: 'FR' })).toBe(false);
      expect(matched(s, 'out-beta-fr', { email: 'a@gmail.com', country: 'FR' })).toBe(true);
      expect(matched(s, 'out-beta-fr', { email: 'a@beta.io', country: 'FR' })).toBe(false);
    });

    it('an unknown segment is false for both in_segment and not_in_segment, negated or not', () => {
      const s = segSnapshot();
      for (const key of ['in-ghost', 'out-ghost', 'in-ghost-negated', 'out-ghost-negated']) {
        expect([key, matched(s, key, { email: 'a@beta.io', country: 'FR' })]).toEqual([key, false]);
        expect([key, matched(s, key, {})]).toEqual([key, false]);
      }
    });

    it('a segment whose parent is missing or loops matches nobody', () => {
      const s = segSnapshot();
      expect(matched(s, 'in-orphan', { anything: 1 })).toBe(false);
      expect(matched(s, 'in-loop', { anything: 1 })).toBe(false);
    });

    it('a segment that refers to itself through its conditions: isEnabled is false and evaluate reports an error, neither throws', () => {
      const s = snapshot({
        environments: [env('prod')],
        flags: [flag('f', { defaultEnabled: true, rules: [rule(1, [cond('segment', 'in_segment', 'selfish')])] })],
        segments: [segment('selfish', [cond('segment', 'in_segment', 'selfish')])],
      });
      expect(s.isEnabled('f', 'prod', { targetingKey: 'u' })).toBe(false);
      const d = s.evaluate('f', 'prod', { targetingKey: 'u' }, false);
      expect(d).toMatchObject({ enabled: false, value: false, reason: 'ERROR', errorCode: 'GENERAL' });
    });

    it('an unknown segment is false for every form at the condition level too', () => {
      for (const operator of ['in_segment', 'not_in_segment'] as const) {
        for (const negate of [false, true]) {
          expect(test({ attribute: 'plan', operator, value: 'ghost', negate }, { plan: 'beta' })).toBe(false);
          expect(test({ attribute: 'plan', operator, value: 'ghost', negate }, {})).toBe(false);
        }
      }
    });

    it('negate flips membership of a known segment', () => {
      const nIn: Condition = { attribute: 'plan', operator: 'in_segment', value: 'beta', negate: true };
      expect(test(nIn, { plan: 'beta' })).toBe(false);
      expect(test(nIn, { plan: 'free' })).toBe(true);
      // The segment decides, not the condition's attribute: a missing attribute does not short-circuit.
      expect(test(nIn, {})).toBe(true);
    });

    it('needs a segment key', () => {
      expect(conditionProblem(cond('s', 'in_segment', ''))).toBe('in_segment needs a segment key');
      expect(conditionProblem(cond('s', 'not_in_segment', 3))).toBe('not_in_segment needs a segment key');
    });
  });

  describe('invalid conditions fail closed', () => {
    it('an unknown operator is false and conditionProblem names it', () => {
      const c = { attribute: 'a', operator: 'like', value: 'x' } as unknown as Condition;
      expect(conditionProblem(c)).toMatch(/^operator "like" is unknown; expected one of eq, ne, /);
      expect(test(c, { a: 'x' })).toBe(false);
      expect(test({ ...c, negate: true }, { a: 'y' })).toBe(false);
    });

    it('an invalid regular expression is reported and never matches', () => {
      const c = cond('a', 'matches', '([a-z');
      expect(conditionProblem(c)).toMatch(
        /^matches: not a regular expression RE2 accepts \(.+\); backreferences and lookaround are not supported$/,
      );
      expect(test(c, { a: '([a-z' })).toBe(false);
      expect(test(c, { a: 'abc' })).toBe(false);
      expect(test({ ...c, negate: true }, { a: 'abc' })).toBe(false);
    });

    it.each<[unknown, string]>([
      [null, 'must be an object'],
      ['eq', 'must be an object'],
      [{ operator: 'eq', value: 1 }, 'attribute must be a non-empty string'],
      [{ attribute: '  ', operator: 'eq', value: 1 }, 'attribute must be a non-empty string'],
      [{ attribute: 'a', operator: 'eq', value: 1, negate: 'yes' }, 'negate must be a boolean'],
      [{ attribute: 'a', operator: 'eq', value: 1, caseInsensitive: 1 }, 'caseInsensitive must be a boolean'],
      [{ attribute: 'a', operator: 'in', value: 'FR' }, 'in needs an array of strings or numbers'],
      [{ attribute: 'a', operator: 'in', value: [{}] }, 'in needs an array of strings or numbers'],
      [{ attribute: 'a', operator: 'gt', value: 'ten' }, 'gt needs a number'],
      [{ attribute: 'a', operator: 'matches', value: 5 }, 'matches needs a regular expression string'],
      [
        { attribute: 'a', operator: 'date_after', value: 'someday' },
        'date_after needs an ISO-8601 date or a timestamp',
      ],
      [{ attribute: 'a', operator: 'eq', value: { x: 1 } }, 'eq needs a string, number or boolean value'],
      [{ attribute: 'a', operator: 'contains', value: undefined }, 'contains needs a string, number or boolean value'],
    ])('conditionProblem(%j) is %j and the condition is false', (c, problem) => {
      expect(conditionProblem(c)).toBe(problem);
      if (typeof c === 'object' && c !== null) {
        const p = compileCondition(c as Condition, lookup);
        expect(p({ a: 1 })).toBe(false);
        expect(p({ a: 'FR' })).toBe(false);
      }
    });
  });

  describe('compileConditions', () => {
    it('ANDs conditions (none: always true)', () => {
      expect(compileConditions([], lookup)({})).toBe(true);
      const one = compileConditions([cond('a', 'eq', 1)], lookup);
      expect(one({ a: 1 })).toBe(true);
      expect(one({ a: 2 })).toBe(false);
      const two = compileConditions([cond('a', 'eq', 1), cond('b', 'eq', 2)], lookup);
      expect(two({ a: 1, b: 2 })).toBe(true);
      expect(two({ a: 1, b: 3 })).toBe(false);
      const three = compileConditions([cond('a', 'eq', 1), cond('b', 'eq', 2), cond('c', 'eq', 3)], lookup);
      expect(three({ a: 1, b: 2, c: 3 })).toBe(true);
      expect(three({ a: 1, b: 2, c: 4 })).toBe(false);
      expect(three({ a: 0, b: 2, c: 3 })).toBe(false);
    });
  });
});
