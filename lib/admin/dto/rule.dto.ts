import { OPERATORS, Operator } from '../../core/types';
import { MAX_INT32, MIN_INT32 } from '../http/admin-input-limits';
import { Field } from './field.decorator';

/** One test on the evaluation context. */
export class ConditionDto {
  @Field.string({
    maxLength: 128,
    example: 'country',
    description: 'The context attribute to test (`targetingKey`, `country`, `plan`…).',
  })
  attribute!: string;

  @Field.enum(OPERATORS, { example: 'in' })
  operator!: Operator;

  @Field.json({
    presence: 'optional',
    description:
      'What to compare with, as the operator needs it (400 naming it otherwise): a list for `in`/`not_in`, a segment key for `in_segment`, an RE2 pattern of at most 1,024 characters for `matches`, a semver for `semver_*`, a date for `date_*`, `{start, end, timezone?, days?}` for `time_window`.',
    example: ['SE', 'NO', 'DK'],
  })
  value?: unknown;

  @Field.boolean({ presence: 'optional', description: 'Inverts the result (a missing attribute stays false).' })
  negate?: boolean;

  @Field.boolean({ presence: 'optional' })
  caseInsensitive?: boolean;
}

/** A targeting rule: the first enabled rule (by ascending priority) whose conditions all hold decides. */
export class RuleDto {
  @Field.string({ presence: 'nullable', maxLength: 255, example: 'Nordics' })
  name?: string | null;

  @Field.integer({ minimum: MIN_INT32, maximum: MAX_INT32, example: 0 })
  priority!: number;

  @Field.boolean({ presence: 'optional', default: true })
  enabled?: boolean;

  @Field.nested(() => ConditionDto, { maxItems: 50 })
  conditions!: ConditionDto[];

  @Field.boolean({ description: 'Whether a match turns the flag on (true) or off (false).' })
  serveEnabled!: boolean;

  @Field.json({ presence: 'nullable', description: 'The value served on a match (of the flag type: 400 otherwise).' })
  serveValue?: unknown;

  @Field.number({
    presence: 'nullable',
    minimum: 0,
    maximum: 100,
    description: 'Share of matching targeting keys the rule applies to.',
  })
  rolloutPercentage?: number | null;
}

/** A weighted variant of a flag's value. */
export class VariantDto {
  @Field.string({
    minLength: 1,
    maxLength: 128,
    example: 'blue',
    description: 'Unique among the variants (400 otherwise).',
  })
  key!: string;

  @Field.json({ description: 'The value served (of the flag type: 400 otherwise).' })
  value!: unknown;

  @Field.number({ minimum: 0, example: 50 })
  weight!: number;
}
