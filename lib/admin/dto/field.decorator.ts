import { applyDecorators, Type } from '@nestjs/common';
import { characterCount, FLAG_KEY_PATTERN, longerThan, SLUG_PATTERN } from '../../core/validation';
import { swagger, transformer, validator } from '../optional-packages';

/**
 * One source for what an admin request may hold: each `Field.*` decorator applies the class-validator
 * constraints the server enforces and records the JSON schema that states them. The OpenAPI document is
 * built from those records (`ApiAdminBody`, `ApiAdminQuery`), so the document and the validation cannot
 * drift: a type, length, pattern, range, enum, required field or unknown key the server refuses is one the
 * document refuses, and the other way round.
 */

/** A JSON schema (OpenAPI 3.0 dialect: `nullable`). */
export type JsonSchema = Record<string, unknown>;

/** Whether a field must be sent, may be left out, or may be left out or null. */
export type Presence = 'required' | 'optional' | 'nullable';

/** What every field may say about itself. */
export interface FieldOptions {
  /** Default `required`. `optional`: may be absent, not null. `nullable`: may be absent or null. */
  presence?: Presence;
  description?: string;
  example?: unknown;
  default?: unknown;
}

interface FieldRecord {
  name: string;
  presence: Presence;
  schema: () => JsonSchema;
}

const FIELDS = 'feature-flags:admin-fields';

const {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  ValidateNested,
} = validator;
const { Transform, Type: TypeOf } = transformer;

/** The field's records, the class's own last (parents first). */
export function fieldsOf(type: Type<unknown>): FieldRecord[] {
  const chain: Type<unknown>[] = [];
  for (
    let t: unknown = type;
    typeof t === 'function' && t !== Object && t !== Function.prototype;
    t = Object.getPrototypeOf(t)
  )
    chain.unshift(t as Type<unknown>);
  const byName = new Map<string, FieldRecord>();
  for (const t of chain)
    for (const record of (Reflect.getOwnMetadata(FIELDS, t) ?? []) as FieldRecord[]) byName.set(record.name, record);
  return [...byName.values()];
}

/**
 * The JSON schema of a request DTO: its fields, those that are required, and no other key
 * (`additionalProperties: false`: the admin pipe refuses unknown fields with a 400).
 */
export function schemaOf(type: Type<unknown>, extra: JsonSchema = {}): JsonSchema {
  const fields = fieldsOf(type);
  const required = fields.filter((f) => f.presence === 'required').map((f) => f.name);
  return {
    type: 'object',
    properties: Object.fromEntries(fields.map((f) => [f.name, f.schema()])),
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
    ...extra,
  };
}

/** Records a field and applies its presence and its constraints. */
function field(
  options: FieldOptions,
  schema: () => JsonSchema,
  ...constraints: PropertyDecorator[]
): PropertyDecorator {
  const presence = options.presence ?? 'required';
  const described = (): JsonSchema => {
    const s = { ...schema() };
    // Any JSON value (no `type`) takes null already; OpenAPI 3.0's `nullable` needs a `type`.
    if (presence === 'nullable' && s.type !== undefined) s.nullable = true;
    if (options.description !== undefined) s.description = options.description;
    if (options.example !== undefined) s.example = options.example;
    if (options.default !== undefined) s.default = options.default;
    return s;
  };
  const record: PropertyDecorator = (target, key) => {
    const own = (Reflect.getOwnMetadata(FIELDS, target.constructor) ?? []) as FieldRecord[];
    Reflect.defineMetadata(FIELDS, [...own, { name: String(key), presence, schema: described }], target.constructor);
  };
  const presenceRule =
    presence === 'optional'
      ? [ValidateIf((_object: object, value: unknown) => value !== undefined)]
      : presence === 'nullable'
        ? [IsOptional()]
        : [];
  return applyDecorators(record, ...presenceRule, ...constraints);
}

function lengthBetween(min: number | undefined, max: number, each = false): PropertyDecorator {
  return ValidateBy(
    {
      name: 'length',
      constraints: [min, max],
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && !longerThan(value, max) && (min === undefined || characterCount(value) >= min),
        defaultMessage: () =>
          min === undefined
            ? `$property must be at most ${max} characters long`
            : `$property must be ${min} to ${max} characters long`,
      },
    },
    { each },
  );
}

/** An RFC 3339 date-time (what JSON Schema's `date-time` format means), also checked as a real date. */
export const DATE_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Free text: anything but the NUL character (which PostgreSQL cannot store). */
// eslint-disable-next-line no-control-regex -- the NUL character is what these patterns refuse
export const TEXT_PATTERN = /^[^\u0000]*$/;
/** Free text with something besides white space (a name). */
// eslint-disable-next-line no-control-regex
export const NOT_BLANK_PATTERN = /^\s*[^\s\u0000][^\u0000]*$/;

/** A string field. */
export interface StringFieldOptions extends FieldOptions {
  maxLength: number;
  minLength?: number;
  /** Default: TEXT_PATTERN (no NUL character). */
  pattern?: RegExp;
  /** What a value that does not match `pattern` is told. */
  patternMessage?: string;
  format?: 'date-time';
}

function stringSchema(options: StringFieldOptions): JsonSchema {
  const o = withPattern(options);
  return {
    type: 'string',
    ...(o.minLength !== undefined ? { minLength: o.minLength } : {}),
    maxLength: o.maxLength,
    ...(o.pattern ? { pattern: o.pattern.source } : {}),
    ...(o.format ? { format: o.format } : {}),
  };
}

function withPattern(o: StringFieldOptions): StringFieldOptions {
  return o.pattern || o.format
    ? o
    : { ...o, pattern: TEXT_PATTERN, patternMessage: '$property must not contain the NUL character (\\u0000)' };
}

function stringConstraints(options: StringFieldOptions, each = false): PropertyDecorator[] {
  const o = withPattern(options);
  return [
    IsString({ each }),
    lengthBetween(o.minLength, o.maxLength, each),
    ...(o.pattern
      ? [Matches(o.pattern, { each, message: o.patternMessage ?? `$property must match ${o.pattern.source}` })]
      : []),
    ...(o.format === 'date-time'
      ? [
          Matches(DATE_TIME_PATTERN, {
            each,
            message: '$property must be an RFC 3339 date-time such as 2030-01-01T00:00:00Z',
          }),
          IsISO8601(
            { strict: true, strictSeparator: true },
            { each, message: '$property must be a real date and time' },
          ),
        ]
      : []),
  ];
}

const SLUG_MESSAGE =
  '$property must be an environment slug: lower-case letters, digits, "_" and "-", at most 64 characters';
const FLAG_KEY_MESSAGE = '$property must be a flag key: letters, digits, ".", "_", ":" and "-", at most 128 characters';

/** The schema of an environment slug. */
export const SLUG_SCHEMA: JsonSchema = { type: 'string', minLength: 1, maxLength: 64, pattern: SLUG_PATTERN.source };
/** The schema of a flag key. */
export const FLAG_KEY_SCHEMA: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: FLAG_KEY_PATTERN.source,
};
/** The pattern of a token, client key or change request id. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,36}$/;
/** The schema of an id. */
export const ID_SCHEMA: JsonSchema = { type: 'string', minLength: 1, maxLength: 36, pattern: ID_PATTERN.source };

/** The field decorators of the admin DTOs. */
export const Field = {
  string: (o: StringFieldOptions): PropertyDecorator => field(o, () => stringSchema(o), ...stringConstraints(o)),

  slug: (o: FieldOptions = {}): PropertyDecorator =>
    field(o, () => ({ ...SLUG_SCHEMA }), IsString(), Matches(SLUG_PATTERN, { message: SLUG_MESSAGE })),

  flagKey: (o: FieldOptions = {}): PropertyDecorator =>
    field(o, () => ({ ...FLAG_KEY_SCHEMA }), IsString(), Matches(FLAG_KEY_PATTERN, { message: FLAG_KEY_MESSAGE })),

  boolean: (o: FieldOptions = {}): PropertyDecorator => field(o, () => ({ type: 'boolean' }), IsBoolean()),

  integer: (o: FieldOptions & { minimum: number; maximum: number }): PropertyDecorator =>
    field(
      o,
      () => ({ type: 'integer', minimum: o.minimum, maximum: o.maximum }),
      IsInt(),
      Min(o.minimum),
      Max(o.maximum),
    ),

  number: (o: FieldOptions & { minimum: number; maximum?: number }): PropertyDecorator =>
    field(
      o,
      () => ({ type: 'number', minimum: o.minimum, ...(o.maximum !== undefined ? { maximum: o.maximum } : {}) }),
      IsNumber({ allowNaN: false, allowInfinity: false }),
      Min(o.minimum),
      ...(o.maximum !== undefined ? [Max(o.maximum)] : []),
    ),

  enum: (values: readonly string[], o: FieldOptions = {}): PropertyDecorator =>
    field(
      o,
      () => ({ type: 'string', enum: [...values] }),
      IsIn([...values], { message: `$property must be one of: ${values.join(', ')}` }),
    ),

  /** An array of strings. */
  strings: (o: FieldOptions & { maxItems: number; minItems?: number; items: StringFieldOptions }): PropertyDecorator =>
    field(
      o,
      () => ({
        type: 'array',
        ...(o.minItems !== undefined ? { minItems: o.minItems } : {}),
        maxItems: o.maxItems,
        items: stringSchema(o.items),
      }),
      IsArray(),
      ...(o.minItems !== undefined ? [ArrayMinSize(o.minItems)] : []),
      ArrayMaxSize(o.maxItems),
      ...stringConstraints(o.items, true),
    ),

  /** A nested DTO, or (with `maxItems`) an array of them. */
  nested: (type: () => Type<unknown>, o: FieldOptions & { maxItems?: number }): PropertyDecorator =>
    field(
      o,
      () =>
        o.maxItems !== undefined ? { type: 'array', maxItems: o.maxItems, items: schemaOf(type()) } : schemaOf(type()),
      ...(o.maxItems !== undefined
        ? [IsArray(), ArrayMaxSize(o.maxItems), ValidateNested({ each: true })]
        : [IsObject(), ValidateNested()]),
      TypeOf(type),
    ),

  /** A free-form JSON object (any keys). */
  object: (o: FieldOptions & { properties?: Record<string, JsonSchema> } = {}): PropertyDecorator =>
    field(
      o,
      () => ({ type: 'object', ...(o.properties ? { properties: o.properties } : {}), additionalProperties: true }),
      IsObject(),
    ),

  /** Any JSON value (null included), checked against the flag's type by the store. */
  json: (o: FieldOptions = {}): PropertyDecorator =>
    field(o, () => ({}), o.presence === undefined || o.presence === 'required' ? IsDefined() : Allow()),

  /** An integer in a query string. */
  queryInteger: (o: FieldOptions & { minimum: number; maximum: number }): PropertyDecorator =>
    field(
      o,
      () => ({ type: 'integer', minimum: o.minimum, maximum: o.maximum }),
      Transform(({ value }: { value: unknown }) =>
        typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value,
      ),
      IsInt({ message: '$property must be an integer' }),
      Min(o.minimum),
      Max(o.maximum),
    ),

  /** A boolean in a query string (`true` / `false`). */
  queryBoolean: (o: FieldOptions = {}): PropertyDecorator =>
    field(
      o,
      () => ({ type: 'boolean' }),
      Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value)),
      IsBoolean({ message: '$property must be true or false' }),
    ),
};

/** Documents a route's JSON body with its DTO's schema (and `rules` between its fields). */
export function ApiAdminBody(type: Type<unknown>, rules: JsonSchema = {}): MethodDecorator {
  return swagger.ApiBody({ required: true, schema: schemaOf(type, rules) as never });
}

/** Documents a route's query parameters with its query DTO's fields. */
export function ApiAdminQuery(type: Type<unknown>): MethodDecorator {
  return applyDecorators(
    ...fieldsOf(type).map((f) => {
      const { description, ...schema } = f.schema();
      return swagger.ApiQuery({
        name: f.name,
        required: f.presence === 'required',
        ...(description !== undefined ? { description: String(description) } : {}),
        schema: schema as never,
      });
    }),
  );
}

/** Documents a path parameter: a flag key, an environment slug or an id. */
export function ApiAdminParam(
  name: string,
  kind: 'flagKey' | 'slug' | 'id',
  description?: string,
  example?: string,
): MethodDecorator {
  const schema = kind === 'flagKey' ? FLAG_KEY_SCHEMA : kind === 'slug' ? SLUG_SCHEMA : ID_SCHEMA;
  return applyDecorators(
    swagger.ApiParam({
      name,
      required: true,
      schema: { ...schema, ...(example ? { example } : {}) } as never,
      ...(description ? { description } : {}),
    }),
    // Fastify refuses a path parameter longer than its maxParamLength (100 by default) before any route runs.
    swagger.ApiResponse({
      status: 414,
      description:
        'A path parameter longer than the server accepts (Fastify: `maxParamLength`, 100 by default; flag keys may have 128 characters).',
      schema: { $ref: swagger.getSchemaPath('ErrorModel') },
    }),
  );
}
