import { Injectable, PipeTransform } from '@nestjs/common';
import { FeatureFlagsValidationError } from '../../core/errors';
import { assertFlagKey, assertSlug } from '../../core/validation';
import { ID_PATTERN } from '../dto/field.decorator';

/** Checks a `:key` path parameter (400 naming `key`). */
@Injectable()
export class FlagKeyPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    assertFlagKey(value, 'key');
    return value;
  }
}

/** Checks an environment slug path parameter (400 naming it). */
export class SlugPipe implements PipeTransform<string, string> {
  constructor(private readonly field = 'slug') {}

  transform(value: string): string {
    assertSlug(value, this.field);
    return value;
  }
}

/** Checks an id path parameter (token, change request). */
export class IdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
      throw new FeatureFlagsValidationError('id', `"${String(value).slice(0, 64)}" is not a valid id`);
    }
    return value;
  }
}
