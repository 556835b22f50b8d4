import {
  EvaluationContext,
  FeatureFlagsValidationError,
  MAX_MATCHED_LENGTH,
  MAX_MATCHED_VALUES,
  MAX_PATTERN_LENGTH,
  assertFlagInput,
  assertSegmentInput,
  compileCondition,
  conditionProblem,
  patternProblem,
} from '../../lib/core';
import { cond, env, flag, rule, snapshot } from './fixtures';

const noSegments = () => undefined;

/**
 * Patterns known to backtrack catastrophically in JavaScript's RegExp (OWASP's ReDoS examples and the
 * classic nested and overlapping quantifiers), each with an input that triggers it.
 */
const CATASTROPHIC: [pattern: string, attack: (n: number) => string][] = [
  ['^(a+)+$', (n) => `${'a'.repeat(n - 1)}!`],
  ['(a+)+b', (n) => 'a'.repeat(n)],
  ['^(a|aa)+$', (n) => `${'a'.repeat(n - 1)}!`],
  ['^(a|a?)+$', (n) => `${'a'.repeat(n - 1)}!`],
  ['^([a-zA-Z]+)*$', (n) => `${'a'.repeat(n - 1)}1`],
  ['^(.*a){12}$', (n) => 'a'.repeat(n)],
  ['^(\\w+\\s?)*$', (n) => `${'word '.repeat(Math.floor((n - 1) / 5))}!`],
  ['^(\\d+)*$', (n) => `${'1'.repeat(n - 1)}x`],
  ['(x+x+)+y', (n) => 'x'.repeat(n)],
  ['^(([a-z])+.)+[A-Z]([a-z])+$', (n) => `${'a'.repeat(n - 1)}!`],
  [
    '^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$',
    (n) => `${'a'.repeat(n - 1)}!`,
  ],
  ['^(([a-z0-9])+[.-]?)+@example\\.com$', (n) => `${'a1'.repeat(Math.floor((n - 1) / 2))}!`],
  ['(\\s*,)*$', (n) => `${' ,'.repeat(Math.floor((n - 1) / 2))}x`],
  ['^(a?){30}a{30}$', (n) => 'a'.repeat(Math.min(n, 30))],
  ['(.*)*x$', (n) => 'y'.repeat(n)],
];

function elapsedMs(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

describe('matches: linear-time regular expressions (RE2)', () => {
  it.each(CATASTROPHIC)(
    '%s is accepted and evaluates in linear time on a value of the longest matched length',
    (pattern, attack) => {
      expect(conditionProblem(cond('a', 'matches', pattern))).toBeNull();
      for (const ci of [false, true]) {
        const predicate = compileCondition(cond('a', 'matches', pattern, { caseInsensitive: ci }), noSegments);
        const value = attack(MAX_MATCHED_LENGTH);
        expect(value.length).toBeLessThanOrEqual(MAX_MATCHED_LENGTH);
        let result: boolean | undefined;
        // A hang detector, not a speed target: backtracking needs more steps than there are atoms here.
        const ms = elapsedMs(() => {
          result = predicate({ a: value });
        });
        expect(typeof result).toBe('boolean');
        expect(ms).toBeLessThan(1000);
      }
    },
  );

  it('^(a+)+$ against the request header of the report (29 and 33 characters) answers at once, correctly', () => {
    const predicate = compileCondition(cond('a', 'matches', '^(a+)+$'), noSegments);
    expect(predicate({ a: `${'a'.repeat(28)}!` })).toBe(false);
    expect(predicate({ a: `${'a'.repeat(32)}!` })).toBe(false);
    expect(predicate({ a: 'a'.repeat(33) })).toBe(true);
  });

  it('a flag whose rule holds a catastrophic pattern does not stall the evaluation of other flags', () => {
    const s = snapshot({
      environments: [env('production'), env('staging', 'production')],
      flags: [flag('evil', { defaultEnabled: false }), flag('plain')],
      overrides: [
        {
          id: 'ef-1',
          environmentId: 'env-staging',
          flagId: 'flag-evil',
          enabled: true,
          percentage: null,
          rules: [rule(0, [cond('ua', 'matches', '^(a+)+$')])],
          value: null,
        },
      ],
    });
    const ctx: EvaluationContext = { targetingKey: 'u1', ua: `${'a'.repeat(MAX_MATCHED_LENGTH - 1)}!` };
    const ms = elapsedMs(() => {
      for (let i = 0; i < 20; i++) {
        s.isEnabled('evil', 'staging', ctx);
        s.isEnabled('plain', 'production', ctx);
      }
    });
    expect(s.isEnabled('plain', 'production', ctx)).toBe(true);
    expect(s.evaluate('evil', 'staging', ctx, false)).toMatchObject({ enabled: true, reason: 'DEFAULT' });
    expect(ms).toBeLessThan(2000);
  });

  describe('what RE2 cannot run is refused when written', () => {
    const REFUSED: [string, string][] = [
      ['backreference', '(a)\\1'],
      ['named backreference', '(?<x>a)\\k<x>'],
      ['lookahead', 'foo(?=bar)'],
      ['negative lookahead', '^(?!admin).*$'],
      ['lookbehind', '(?<=@)example\\.com'],
      ['negative lookbehind', '(?<!x)y'],
      ['repetition above 1000', 'a{1001}'],
      ['nested repetition above 1000', '(a{100}){100}'],
      ['unbalanced group', '([a-'],
    ];

    it.each(REFUSED)('%s: %s', (_name, pattern) => {
      expect(patternProblem(pattern)).toMatch(
        /^matches: not a regular expression RE2 accepts \(.+\); backreferences and lookaround are not supported$/,
      );
      let error: unknown;
      try {
        assertFlagInput({ key: 'f', rules: [rule(0, [cond('a', 'eq', 'x'), cond('a', 'matches', pattern)])] });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FeatureFlagsValidationError);
      expect((error as FeatureFlagsValidationError).field).toBe('rules[0].conditions[1].value');
      expect(() => assertSegmentInput({ key: 's', conditions: [cond('a', 'matches', pattern)] })).toThrow(
        expect.objectContaining({ field: 'conditions[0].value' }) as unknown as Error,
      );
    });

    it(`a pattern longer than ${MAX_PATTERN_LENGTH} characters`, () => {
      expect(patternProblem('a'.repeat(MAX_PATTERN_LENGTH))).toBeNull();
      expect(patternProblem('a'.repeat(MAX_PATTERN_LENGTH + 1))).toBe(
        `matches: the pattern is ${MAX_PATTERN_LENGTH + 1} characters long; at most ${MAX_PATTERN_LENGTH} are accepted`,
      );
    });

    it('a pattern that is not a string', () => {
      expect(patternProblem(42)).toBe('matches needs a regular expression string');
      expect(conditionProblem(cond('a', 'matches', null))).toBe('matches needs a regular expression string');
    });

    it('a stored pattern RE2 refuses (written before this check) evaluates to no match, without throwing', () => {
      const s = snapshot({
        environments: [env('production')],
        flags: [
          flag('f', {
            defaultEnabled: true,
            rules: [rule(0, [cond('a', 'matches', '(a)\\1')], { serveEnabled: false })],
          }),
        ],
      });
      expect(s.evaluate('f', 'production', { a: 'aa' }, false)).toMatchObject({ enabled: true, reason: 'DEFAULT' });
    });
  });

  describe('the value matched is capped', () => {
    const any = compileCondition(cond('a', 'matches', '.*'), noSegments);
    const negated = compileCondition(cond('a', 'matches', '^x', { negate: true }), noSegments);

    it(`a value of ${MAX_MATCHED_LENGTH} characters is tested; a longer one matches nothing, negated or not`, () => {
      expect(any({ a: 'y'.repeat(MAX_MATCHED_LENGTH) })).toBe(true);
      expect(any({ a: 'y'.repeat(MAX_MATCHED_LENGTH + 1) })).toBe(false);
      expect(negated({ a: 'y'.repeat(MAX_MATCHED_LENGTH) })).toBe(true);
      expect(negated({ a: 'y'.repeat(MAX_MATCHED_LENGTH + 1) })).toBe(false);
    });

    it(`a list attribute: up to ${MAX_MATCHED_VALUES} values are tested; a longer list matches nothing`, () => {
      expect(any({ a: Array.from({ length: MAX_MATCHED_VALUES }, () => 'y') })).toBe(true);
      expect(any({ a: Array.from({ length: MAX_MATCHED_VALUES + 1 }, () => 'y') })).toBe(false);
      expect(negated({ a: Array.from({ length: MAX_MATCHED_VALUES + 1 }, () => 'y') })).toBe(false);
    });
  });

  describe('RE2 runs the patterns people write', () => {
    const CASES: [pattern: string, ci: boolean, match: string, noMatch: string][] = [
      ['^user-\\d+$', false, 'user-42', 'user-x'],
      ['@(acme|example)\\.(com|io)$', false, 'bob@acme.io', 'bob@acme.io.evil.com'],
      ['^[A-Z]{2}$', true, 'se', 'swe'],
      ['(?i)^beta', false, 'BETA-tester', 'alpha'],
      ['^(?<major>\\d+)\\.\\d+', false, '12.3', 'v12'],
      ['\\bMobile\\b', false, 'Mozilla/5.0 (iPhone) Mobile Safari', 'Mozilla/5.0 (X11) Firefox'],
      ['^\\p{Lu}', false, 'Émile', 'émile'],
    ];
    it.each(CASES)('%s (case-insensitive: %s)', (pattern, ci, match, noMatch) => {
      const predicate = compileCondition(cond('a', 'matches', pattern, { caseInsensitive: ci }), noSegments);
      expect(predicate({ a: match })).toBe(true);
      expect(predicate({ a: noMatch })).toBe(false);
    });
  });
});
