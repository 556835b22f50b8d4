import { applyDecorators } from '@nestjs/common';
import { FLAG_KEY_PATTERN, SLUG_PATTERN } from '../../core/validation';
import { transformer, validator } from '../optional-packages';

const { IsOptional, Matches, ValidateIf, IsBoolean } = validator;
const { Transform } = transformer;

/** The field may be absent, but not null. */
export const Optional = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined);

/** The field may be absent or null (null: inherit again, or clear). */
export const Nullable = (): PropertyDecorator => IsOptional();

/** An environment slug. */
export const IsSlug = (): PropertyDecorator =>
  Matches(SLUG_PATTERN, { message: '$property must be an environment slug: lower-case letters, digits, "_" and "-", at most 64 characters' });

/** A flag key. */
export const IsFlagKey = (): PropertyDecorator =>
  Matches(FLAG_KEY_PATTERN, { message: '$property must be a flag key: letters, digits, ".", "_", ":" and "-", at most 128 characters' });

/** A boolean in a query string (`true` / `false`). */
export const QueryBoolean = (): PropertyDecorator =>
  applyDecorators(
    Transform(({ value }: { value: unknown }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value)),
    IsBoolean({ message: '$property must be true or false' }),
  );

/** An integer in a query string. */
export const QueryInteger = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value));
