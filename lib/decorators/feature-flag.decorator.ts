import { UseGuards, applyDecorators } from '@nestjs/common';
import { FeatureFlagsValidationError } from '../core/errors';
import { assertFlagKey } from '../core/validation';
import { FEATURE_FLAG_METADATA } from '../feature-flags.internal-constants';
import { FeatureFlagGuard, FeatureFlagOptions, FeatureFlagRequirement } from '../guards/feature-flag.guard';

/**
 * Guards a route handler (or every handler of a controller) with one or more flags: the request passes
 * only when all of them are on in its environment; otherwise 404 (or the configured `whenDisabled`).
 * @example
 * @Get('checkout')
 * @FeatureFlag('new-checkout')
 * checkout() { … }
 */
export function FeatureFlag(keys: string | string[], options?: FeatureFlagOptions): ClassDecorator & MethodDecorator {
  const list = Array.isArray(keys) ? keys : [keys];
  if (list.length === 0) throw new FeatureFlagsValidationError('keys', '@FeatureFlag() needs at least one flag key');
  list.forEach((k) => assertFlagKey(k, '@FeatureFlag() key'));
  const when = options?.whenDisabled;
  if (when !== undefined && typeof when !== 'function' && !(Number.isInteger(when) && when >= 400 && when <= 599)) {
    throw new FeatureFlagsValidationError(
      'whenDisabled',
      `@FeatureFlag() needs an HTTP error status (400–599) or an exception factory, got ${String(when)}`,
    );
  }
  const requirement: FeatureFlagRequirement = { keys: list, options };
  // Appends rather than sets, so that several @FeatureFlag() on one target all apply.
  const record = (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    const where = descriptor ? (descriptor.value as object) : target;
    const existing = (Reflect.getMetadata(FEATURE_FLAG_METADATA, where) as FeatureFlagRequirement[] | undefined) ?? [];
    Reflect.defineMetadata(FEATURE_FLAG_METADATA, [...existing, requirement], where);
  };
  return applyDecorators(record, UseGuards(options?.guard ?? FeatureFlagGuard));
}
