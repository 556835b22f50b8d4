import { Controller, Get, INestApplication, Param } from '@nestjs/common';
import request from 'supertest';
import {
  Condition,
  EvaluationContext,
  OPERATORS,
  attributeOf,
  compileCondition,
  conditionProblem,
} from '../../lib/core';
import { FeatureFlagStorage, FeatureFlagsModule, FeatureFlagsService } from '../../lib';
import { ADAPTERS, StartApp, bootApp, closeApps, header } from '../support/http';
import { cond, env, flag, rule, segment, snapshot } from './fixtures';

/** Names every object inherits from Object.prototype: never attributes of a context. */
const BUILT_INS = [
  'constructor',
  '__proto__',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupGetter__',
];

/** A valid value for each operator, so that the condition compiles. */
function valueFor(operator: Condition['operator']): unknown {
  switch (operator) {
    case 'in':
    case 'not_in':
      return ['x'];
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return 1;
    case 'matches':
      return '.*';
    case 'semver_eq':
    case 'semver_gt':
    case 'semver_lt':
      return '1.0.0';
    case 'date_after':
    case 'date_before':
      return '2000-01-01T00:00:00Z';
    case 'in_segment':
    case 'not_in_segment':
      return 'beta';
    case 'time_window':
      return { start: '00:00', end: '23:59' };
    default:
      return 'x';
  }
}

const ATTRIBUTE_OPERATORS = OPERATORS.filter((o) => !['in_segment', 'not_in_segment', 'time_window'].includes(o));
const noSegments = () => undefined;

describe('only own properties of a context are attributes', () => {
  it('attributeOf() reads own properties only', () => {
    expect(attributeOf({}, 'constructor')).toBeUndefined();
    expect(attributeOf({}, '__proto__')).toBeUndefined();
    expect(attributeOf({}, 'toString')).toBeUndefined();
    expect(attributeOf({ constructor: 'x' }, 'constructor')).toBe('x');
    expect(attributeOf(Object.create({ country: 'SE' }) as EvaluationContext, 'country')).toBeUndefined();
    expect(attributeOf(JSON.parse('{"__proto__":"x"}') as EvaluationContext, '__proto__')).toBe('x');
    expect(attributeOf(Object.assign(Object.create(null), { country: 'SE' }) as EvaluationContext, 'country')).toBe(
      'SE',
    );
  });

  describe.each(BUILT_INS)('attribute "%s"', (name) => {
    it.each(ATTRIBUTE_OPERATORS)('%s holds for no context that does not send it (negated or not)', (operator) => {
      const c = cond(name, operator, valueFor(operator));
      expect(conditionProblem(c)).toBeNull();
      for (const negate of [false, true]) {
        const predicate = compileCondition({ ...c, negate }, noSegments);
        expect(predicate({})).toBe(false);
        expect(predicate({ targetingKey: 'u1', country: 'SE' })).toBe(false);
      }
    });

    it('counts when the context sends it as its own property', () => {
      const ctx = JSON.parse(`{${JSON.stringify(name)}: "x"}`) as EvaluationContext;
      expect(compileCondition(cond(name, 'eq', 'x'), noSegments)(ctx)).toBe(true);
      expect(compileCondition(cond(name, 'ne', 'y'), noSegments)(ctx)).toBe(true);
      expect(compileCondition(cond(name, 'ne', 'x'), noSegments)(ctx)).toBe(false);
    });
  });

  it('a flag rule "constructor ne x" does not match a request without attributes', () => {
    const s = snapshot({
      environments: [env('production')],
      // On for everyone, except where the rule matches.
      flags: [flag('f', { rules: [rule(0, [cond('constructor', 'ne', 'x')], { serveEnabled: false })] })],
    });
    expect(s.evaluate('f', 'production', {}, false)).toMatchObject({ enabled: true, reason: 'DEFAULT' });
    expect(s.isEnabled('f', 'production', { targetingKey: 'u1' })).toBe(true);
    expect(s.evaluate('f', 'production', { constructor: 'y' } as EvaluationContext, false)).toMatchObject({
      enabled: false,
      reason: 'TARGETING_MATCH',
    });
  });

  it('a segment condition on a built-in name matches nobody who does not send it', () => {
    const s = snapshot({
      environments: [env('production')],
      flags: [flag('f', { rules: [rule(0, [cond('plan', 'in_segment', 'proto')], { serveEnabled: false })] })],
      segments: [segment('proto', [cond('toString', 'ne', 'x'), cond('valueOf', 'contains', '')])],
    });
    expect(s.isEnabled('f', 'production', { plan: 'free' })).toBe(true);
    expect(s.isEnabled('f', 'production', { toString: 'y', valueOf: 'z' } as EvaluationContext)).toBe(false);
  });
});

@Controller('own')
class OwnController {
  constructor(private readonly flags: FeatureFlagsService) {}

  @Get(':key')
  enabled(@Param('key') key: string) {
    return { enabled: this.flags.isEnabled(key, { targetingKey: 'u1' }) };
  }
}

describe.each(ADAPTERS)('context merging keeps own properties only (%s)', (_adapter, start: StartApp) => {
  let app: INestApplication;
  beforeEach(async () => {
    app = await bootApp(start, {
      imports: [
        FeatureFlagsModule.forRoot({
          environments: [{ slug: 'production' }],
          // The request context is parsed from a header: a "__proto__" key in it is data, not a prototype.
          contextFactory: (req) => JSON.parse(header(req, 'x-context') ?? '{}') as EvaluationContext,
        }),
      ],
      controllers: [OwnController],
    });
  });
  afterEach(closeApps);

  async function seed(rules: ReturnType<typeof rule>[]): Promise<void> {
    // On for everyone, except where a rule matches.
    await app.get<FeatureFlagStorage>(FeatureFlagStorage).createFlag({ key: 'merged', defaultEnabled: true, rules });
  }

  it('a rule on an inherited name does not match; a "__proto__" key neither pollutes nor becomes a prototype', async () => {
    await seed([
      rule(0, [cond('constructor', 'ne', 'x')], { serveEnabled: false }),
      rule(1, [cond('country', 'eq', 'SE')], { serveEnabled: false }),
    ]);
    await request(app.getHttpServer()).get('/own/merged').expect(200, { enabled: true });
    await request(app.getHttpServer())
      .get('/own/merged')
      .set('x-context', '{"__proto__": {"country": "SE"}}')
      .expect(200, { enabled: true });
    expect(({} as Record<string, unknown>).country).toBeUndefined();
    await request(app.getHttpServer())
      .get('/own/merged')
      .set('x-context', '{"country": "SE"}')
      .expect(200, { enabled: false });
  });
});

describe('declared environments named after built-ins', () => {
  afterEach(closeApps);

  it('an environment declared as "constructor" gets the default type, not an inherited function', async () => {
    const app = await bootApp(ADAPTERS[0][1], {
      imports: [
        FeatureFlagsModule.forRoot({
          environments: [{ slug: 'constructor' }, { slug: 'tostring' }],
          defaultEnvironment: 'constructor',
        }),
      ],
    });
    const storage = app.get<FeatureFlagStorage>(FeatureFlagStorage);
    expect((await storage.getEnvironment('constructor'))?.type).toBe('development');
  });
});
