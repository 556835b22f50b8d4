import { Column, CreateDateColumn, Entity, Index, OneToMany, PrimaryColumn, UpdateDateColumn } from './typeorm-decorators';
import { FlagDefinition, FlagStatus, FlagType, FlagValue, FlagVariant } from '../core/types';
import { FlagRule } from './flag-rule.entity';

/**
 * The base definition of a feature flag, shared by every environment (TypeORM entity `feature_flags`).
 * The route decorator is `@FeatureFlag()`; this is the record it reads.
 * @example
 * await storage.createFlag(new Flag({ key: 'new-checkout', name: 'New checkout' }));
 */
@Entity({ name: 'feature_flags' })
export class Flag implements FlagDefinition {
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'PK_feature_flags' })
  id!: string;

  @Index('UQ_feature_flags_key', { unique: true })
  @Column({ type: 'varchar', length: 128 })
  key!: string;

  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'varchar', length: 16, default: 'boolean' })
  type!: FlagType;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status!: FlagStatus;

  @Column({ name: 'default_enabled', type: 'boolean', default: false })
  defaultEnabled!: boolean;

  @Column({ name: 'default_value', type: 'simple-json', nullable: true })
  defaultValue!: FlagValue | null;

  @Column({ type: 'simple-json' })
  tags!: string[];

  @Column({ type: 'simple-json' })
  metadata!: Record<string, unknown>;

  @OneToMany(() => FlagRule, (rule) => rule.flag, { cascade: true, eager: true })
  rules!: FlagRule[];

  @Column({ type: 'simple-json', nullable: true })
  variants!: FlagVariant[] | null;

  @Column({ type: 'int', default: 1 })
  version!: number;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;

  constructor(init?: Partial<Flag>) {
    if (init) Object.assign(this, init);
  }
}
