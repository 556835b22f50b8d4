import { FLAG_STATUSES, FLAG_TYPES, FlagStatus, FlagType } from '../../core/types';
import { MAX_INT32 } from '../http/admin-input-limits';
import { Field } from './field.decorator';
import { RuleDto, VariantDto } from './rule.dto';

/** Fields every write route takes: why, and the confirmation protected environments ask for. */
export class WriteOptionsDto {
  @Field.string({
    presence: 'nullable',
    maxLength: 2000,
    description: 'Why: kept in the audit log (and, for an override, with the override).',
    example: 'QA sign-off for release 42',
  })
  reason?: string | null;

  @Field.boolean({
    presence: 'optional',
    description:
      'Confirms a change to a protected environment (type production, or settings.protected / requireApproval).',
  })
  confirm?: boolean;
}

const TAGS = { maxItems: 50, items: { maxLength: 64 } } as const;

/** The fields of an environment's override (PATCH with `environment`). */
export const OVERRIDE_FIELDS = ['enabled', 'percentage', 'rules', 'value', 'variants'] as const;
/** The fields only the base flag has (PATCH without `environment`). */
export const BASE_ONLY_FIELDS = ['name', 'description', 'tags', 'metadata'] as const;

const oneOf = (fields: readonly string[]) => fields.map((f) => ({ required: [f] }));

/**
 * What `PatchFlagDto` must hold besides its fields' own rules, as the flag service enforces it: with
 * `environment`, override fields or a reason and no base-only field; without, something the base flag
 * has, no `percentage`, and `enabled` true or false.
 */
export const PATCH_FLAG_SHAPES = {
  oneOf: [
    {
      description: "An environment's override.",
      required: ['environment'],
      properties: { environment: { type: 'string' } },
      anyOf: oneOf([...OVERRIDE_FIELDS, 'reason']),
      not: { anyOf: oneOf(BASE_ONLY_FIELDS) },
    },
    {
      description: 'The base flag.',
      properties: { environment: { type: 'string', nullable: true, enum: [null] }, enabled: { type: 'boolean' } },
      anyOf: oneOf(['enabled', 'value', 'rules', 'variants', ...BASE_ONLY_FIELDS]),
      not: { required: ['percentage'] },
    },
  ],
};

/** `POST /feature-flags`: a new flag (its base definition). */
export class CreateFlagDto extends WriteOptionsDto {
  @Field.flagKey({ example: 'new-checkout' })
  key!: string;

  @Field.string({ presence: 'optional', maxLength: 255, example: 'New checkout', description: 'Default: the key.' })
  name?: string;

  @Field.string({ presence: 'nullable', maxLength: 10_000 })
  description?: string | null;

  @Field.enum(FLAG_TYPES, { presence: 'optional', default: 'boolean' })
  type?: FlagType;

  @Field.boolean({
    presence: 'optional',
    default: false,
    description: 'Whether the flag is on where no environment decides.',
  })
  defaultEnabled?: boolean;

  @Field.json({ presence: 'nullable', description: 'The value served when on (of the flag type: 400 otherwise).' })
  defaultValue?: unknown;

  @Field.strings({ presence: 'optional', ...TAGS, example: ['checkout'] })
  tags?: string[];

  @Field.object({ presence: 'optional' })
  metadata?: Record<string, unknown>;

  @Field.nested(() => RuleDto, { presence: 'optional', maxItems: 100 })
  rules?: RuleDto[];

  @Field.nested(() => VariantDto, {
    presence: 'nullable',
    maxItems: 100,
    description: 'Weighted values (keys unique, values of the flag type: 400 otherwise).',
  })
  variants?: VariantDto[] | null;
}

/**
 * `PATCH /feature-flags/:key`. With `environment`, changes that environment's override (null: the field
 * inherits again); without, changes the base flag (`enabled` and `value` are then its defaults).
 */
export class PatchFlagDto extends WriteOptionsDto {
  @Field.slug({
    presence: 'nullable',
    description: 'The environment whose override changes; absent: the base flag.',
    example: 'staging',
  })
  environment?: string | null;

  @Field.boolean({ presence: 'nullable', description: 'On or off (null: inherit).' })
  enabled?: boolean | null;

  @Field.number({
    presence: 'nullable',
    minimum: 0,
    maximum: 100,
    description: 'Rollout share of targeting keys (environments only: 400 on the base flag).',
  })
  percentage?: number | null;

  @Field.nested(() => RuleDto, { presence: 'nullable', maxItems: 100 })
  rules?: RuleDto[] | null;

  @Field.json({ presence: 'nullable', description: 'The value served when on (of the flag type: 400 otherwise).' })
  value?: unknown;

  @Field.nested(() => VariantDto, { presence: 'nullable', maxItems: 100 })
  variants?: VariantDto[] | null;

  @Field.string({ presence: 'optional', maxLength: 255, description: 'Base flag only (400 with `environment`).' })
  name?: string;

  @Field.string({ presence: 'nullable', maxLength: 10_000, description: 'Base flag only (400 with `environment`).' })
  description?: string | null;

  @Field.strings({ presence: 'optional', ...TAGS, description: 'Base flag only (400 with `environment`).' })
  tags?: string[];

  @Field.object({ presence: 'optional', description: 'Base flag only (400 with `environment`).' })
  metadata?: Record<string, unknown>;

  @Field.integer({
    presence: 'optional',
    minimum: 0,
    maximum: MAX_INT32,
    description:
      'The version this change is based on (or send If-Match: 400 if they differ); a stale one is refused with 409.',
  })
  version?: number;
}

/** `POST /feature-flags/:key/promote`: copies `from`'s override to `to`. */
export class PromoteFlagDto extends WriteOptionsDto {
  @Field.slug({ example: 'staging' })
  from!: string;

  @Field.slug({ example: 'production', description: 'Another environment than `from` (400 otherwise).' })
  to!: string;

  @Field.boolean({ presence: 'optional', description: 'Only compute what would change.' })
  dryRun?: boolean;
}

/** Archive or restore a flag. */
export class FlagActionDto extends WriteOptionsDto {}

/** `?env=` of `GET /feature-flags/:key`. */
export class FlagQueryDto {
  @Field.slug({ presence: 'optional', description: 'Resolve the flag in this environment.', example: 'staging' })
  env?: string;
}

/** `?confirm=true&reason=` of DELETE routes. */
export class ConfirmQueryDto {
  @Field.queryBoolean({ presence: 'optional', description: 'Confirms a change to a protected environment.' })
  confirm?: boolean;

  @Field.string({ presence: 'optional', maxLength: 2000, description: 'Why (audit log).' })
  reason?: string;
}

/** Filters and page of `GET /feature-flags`. */
export class ListFlagsQueryDto {
  @Field.enum([...FLAG_STATUSES, 'all'], {
    presence: 'optional',
    description: 'Default: active and inactive flags (not archived).',
  })
  status?: FlagStatus | 'all';

  @Field.string({ presence: 'optional', maxLength: 64 })
  tag?: string;

  @Field.string({ presence: 'optional', maxLength: 128, description: 'Case-insensitive part of the key or name.' })
  search?: string;

  @Field.slug({ presence: 'optional', description: 'Also resolve each flag in this environment.' })
  env?: string;

  @Field.queryInteger({ presence: 'optional', minimum: 1, maximum: 500, default: 100 })
  limit?: number;

  @Field.queryInteger({ presence: 'optional', minimum: 0, maximum: MAX_INT32, default: 0 })
  offset?: number;
}
