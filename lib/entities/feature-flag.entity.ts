import { Column, CreateDateColumn, Entity, Index, OneToMany, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { FlagDefinition, FlagStatus, FlagType, FlagValue, FlagVariant } from '../core/types';
import type { FeatureFlagOptions } from '../guards/feature-flag.guard';
import { FlagRule } from './flag-rule.entity';

/** The base definition of a feature flag, shared by every environment (TypeORM entity `feature_flags`). */
export interface FeatureFlag extends FlagDefinition {
  id: string;
  key: string;
  name: string;
  description: string | null;
  type: FlagType;
  status: FlagStatus;
  defaultEnabled: boolean;
  defaultValue: FlagValue | null;
  tags: string[];
  metadata: Record<string, unknown>;
  rules: FlagRule[];
  variants: FlagVariant[] | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * `FeatureFlag` is two things under one name, as the flag is one concept:
 * - with `new`, a flag record: `new FeatureFlag({ key: 'new-checkout', name: 'New checkout' })`;
 * - called as a decorator, a route guard: `@FeatureFlag('new-checkout')` lets a request through only
 *   when every named flag is on in the request's environment (404 otherwise, or `whenDisabled`).
 */
export interface FeatureFlagConstructor {
  /** A flag record, to pass to `storage.createFlag()`. */
  new (init?: Partial<FeatureFlag>): FeatureFlag;
  /**
   * Guards a route handler, or every handler of a controller, with one or more flags (all must be on).
   * @example
   * @Get('checkout')
   * @FeatureFlag('new-checkout')
   * checkout() { … }
   */
  (keys: string | string[], options?: FeatureFlagOptions): ClassDecorator & MethodDecorator;
  readonly prototype: FeatureFlag;
}

export const FeatureFlag = function FeatureFlag(this: FeatureFlag, init?: unknown, options?: unknown) {
  if (!new.target) {
    // Called as a decorator factory. Required here, not imported, because the decorator's module depends
    // on the guard and the module, which depend on the entities.
    const { featureFlagDecorator } = require('../decorators/feature-flag.decorator') as typeof import('../decorators/feature-flag.decorator');
    return featureFlagDecorator(init as string | string[], options as FeatureFlagOptions | undefined);
  }
  if (init) Object.assign(this, init);
} as unknown as FeatureFlagConstructor;

// The entity mapping, applied as the equivalent class decorators would be.
const column = (property: keyof FeatureFlag, ...decorators: PropertyDecorator[]): void =>
  decorators.forEach((decorate) => decorate(FeatureFlag.prototype, property));

column('id', PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'PK_feature_flags' }));
column('key', Column({ type: 'varchar', length: 128 }), Index('UQ_feature_flags_key', { unique: true }));
column('name', Column({ type: 'varchar', length: 255 }));
column('description', Column({ type: 'text', nullable: true }));
column('type', Column({ type: 'varchar', length: 16, default: 'boolean' }));
column('status', Column({ type: 'varchar', length: 16, default: 'active' }));
column('defaultEnabled', Column({ name: 'default_enabled', type: 'boolean', default: false }));
column('defaultValue', Column({ name: 'default_value', type: 'simple-json', nullable: true }));
column('tags', Column({ type: 'simple-json' }));
column('metadata', Column({ type: 'simple-json' }));
column('rules', OneToMany(() => FlagRule, (rule) => rule.flag, { cascade: true, eager: true }));
column('variants', Column({ type: 'simple-json', nullable: true }));
column('version', Column({ type: 'int', default: 1 }));
column('createdAt', CreateDateColumn({ name: 'created_at' }));
column('updatedAt', UpdateDateColumn({ name: 'updated_at' }));
Entity({ name: 'feature_flags' })(FeatureFlag);
