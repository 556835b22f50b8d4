import { ENVIRONMENT_TYPES, EnvironmentType } from '../../core/types';
import { MAX_INT32 } from '../http/admin-input-limits';
import { Field, NOT_BLANK_PATTERN } from './field.decorator';
import { WriteOptionsDto } from './flag.dto';

const SETTINGS_DESCRIPTION =
  'Free-form settings. Known keys: requireApproval (changes need a second person), protected (changes need confirmation), defaultEnabled (environment default of `enabled`).';

/** The settings the store checks (any other key is kept as it is). */
const SETTINGS_PROPERTIES = { defaultEnabled: { type: 'boolean' } };

/** `POST /environments`. */
export class CreateEnvironmentDto {
  @Field.slug({ example: 'qa' })
  slug!: string;

  @Field.string({
    maxLength: 255,
    pattern: NOT_BLANK_PATTERN,
    patternMessage: '$property must not be blank',
    example: 'QA',
  })
  name!: string;

  @Field.string({ presence: 'nullable', maxLength: 10_000 })
  description?: string | null;

  @Field.slug({
    presence: 'nullable',
    description: 'Slug of the environment it inherits from (it must exist: 404 otherwise).',
    example: 'staging',
  })
  parent?: string | null;

  @Field.enum(ENVIRONMENT_TYPES, { presence: 'optional', default: 'development' })
  type?: EnvironmentType;

  @Field.object({ presence: 'optional', description: SETTINGS_DESCRIPTION, properties: SETTINGS_PROPERTIES })
  settings?: Record<string, unknown>;

  @Field.boolean({ presence: 'optional', default: true })
  isActive?: boolean;

  @Field.string({ presence: 'nullable', maxLength: 2000, description: 'Why (audit log).' })
  reason?: string | null;
}

/** The fields `PATCH /environments/:slug` changes: it must send one of them. */
export const ENVIRONMENT_FIELDS = ['name', 'description', 'parent', 'type', 'settings', 'isActive'] as const;

/** What `UpdateEnvironmentDto` must hold besides its fields' own rules: something to change. */
export const UPDATE_ENVIRONMENT_SHAPE = { anyOf: ENVIRONMENT_FIELDS.map((f) => ({ required: [f] })) };

/** `PATCH /environments/:slug`. */
export class UpdateEnvironmentDto extends WriteOptionsDto {
  @Field.string({
    presence: 'optional',
    maxLength: 255,
    pattern: NOT_BLANK_PATTERN,
    patternMessage: '$property must not be blank',
  })
  name?: string;

  @Field.string({ presence: 'nullable', maxLength: 10_000 })
  description?: string | null;

  @Field.slug({ presence: 'nullable', description: 'New parent slug; null makes it a root.' })
  parent?: string | null;

  @Field.enum(ENVIRONMENT_TYPES, { presence: 'optional' })
  type?: EnvironmentType;

  @Field.object({
    presence: 'optional',
    description: `${SETTINGS_DESCRIPTION} Replaces the settings as a whole.`,
    properties: SETTINGS_PROPERTIES,
  })
  settings?: Record<string, unknown>;

  @Field.boolean({ presence: 'optional' })
  isActive?: boolean;

  @Field.integer({
    presence: 'optional',
    minimum: 0,
    maximum: MAX_INT32,
    description: 'The version this change is based on (or send If-Match: 400 if they differ).',
  })
  version?: number;
}

/** `POST /environments/:slug/clone` (Unleash's cloning): a new environment with a copy of every override. */
export class CloneEnvironmentDto {
  @Field.slug({ example: 'staging-eu' })
  slug!: string;

  @Field.string({
    maxLength: 255,
    pattern: NOT_BLANK_PATTERN,
    patternMessage: '$property must not be blank',
    example: 'Staging EU',
  })
  name!: string;

  @Field.string({ presence: 'nullable', maxLength: 10_000 })
  description?: string | null;

  @Field.enum(ENVIRONMENT_TYPES, { presence: 'optional', description: "Default: the source's type." })
  type?: EnvironmentType;

  @Field.slug({ presence: 'nullable', description: "Default: the source's parent." })
  parent?: string | null;

  @Field.object({
    presence: 'optional',
    description: "Default: the source's settings.",
    properties: SETTINGS_PROPERTIES,
  })
  settings?: Record<string, unknown>;

  @Field.string({ presence: 'nullable', maxLength: 2000, description: 'Why (audit log).' })
  reason?: string | null;
}

/** `POST /environments/:slug/promote`: promotes every override of the environment to `to`. */
export class PromoteEnvironmentDto extends WriteOptionsDto {
  @Field.slug({ example: 'production', description: 'Another environment than the source (400 otherwise).' })
  to!: string;

  @Field.boolean({ presence: 'optional', description: 'Only compute what would change (do this first).' })
  dryRun?: boolean;

  @Field.strings({
    presence: 'optional',
    maxItems: 500,
    items: { maxLength: 128 },
    description: 'Only these flags (each must have an override in the source: 409 otherwise).',
  })
  flags?: string[];
}

/** `?onlyDifferences=` of the comparison. */
export class CompareQueryDto {
  @Field.queryBoolean({ presence: 'optional', description: 'Only list flags that differ.' })
  onlyDifferences?: boolean;
}
