import { Inject } from '@nestjs/common';
import { FeatureFlagStorage } from '../storage/feature-flag-storage.interface';

/**
 * Injects the module's `FeatureFlagStorage`.
 *
 * @example
 * constructor(@InjectFeatureFlagStorage() private readonly storage: FeatureFlagStorage) {}
 */
export const InjectFeatureFlagStorage = (): ParameterDecorator & PropertyDecorator => Inject(FeatureFlagStorage);
