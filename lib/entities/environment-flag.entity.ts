import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from './typeorm-decorators';
import { EnvironmentFlagDefinition, FlagRuleDefinition, FlagValue, FlagVariant } from '../core/types';
import { Environment } from './environment.entity';
import { Flag } from './flag.entity';

/**
 * An environment's override of a flag. Each overridable field is nullable: null inherits from the parent
 * environment (and at the root from the base flag). `reason` documents why the environment differs.
 *
 * @example
 * await storage.createEnvironmentFlag(new EnvironmentFlag({ environmentId: staging.id, flagId: flag.id, enabled: true, percentage: 100 }));
 */
@Entity({ name: 'feature_flag_environment_flags' })
@Index('UQ_feature_flag_environment_flags_env_flag', ['environmentId', 'flagId'], { unique: true })
export class EnvironmentFlag implements EnvironmentFlagDefinition {
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'PK_feature_flag_environment_flags' })
  id!: string;

  @Column({ name: 'environment_id', type: 'varchar', length: 36 })
  environmentId!: string;

  @ManyToOne(() => Environment, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'environment_id', foreignKeyConstraintName: 'FK_feature_flag_environment_flags_environment_id' })
  environment?: Environment;

  @Index('IDX_feature_flag_environment_flags_flag_id')
  @Column({ name: 'flag_id', type: 'varchar', length: 36 })
  flagId!: string;

  @ManyToOne(() => Flag, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'flag_id', foreignKeyConstraintName: 'FK_feature_flag_environment_flags_flag_id' })
  flag?: Flag;

  @Column({ type: 'boolean', nullable: true })
  enabled!: boolean | null;

  @Column({ type: 'double precision', nullable: true })
  percentage!: number | null;

  @Column({ type: 'simple-json', nullable: true })
  rules!: FlagRuleDefinition[] | null;

  @Column({ type: 'simple-json', nullable: true })
  value!: FlagValue | null;

  @Column({ type: 'simple-json', nullable: true })
  variants!: FlagVariant[] | null;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ type: 'int', default: 1 })
  version!: number;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;

  constructor(init?: Partial<EnvironmentFlag>) {
    if (init) Object.assign(this, init);
  }
}
