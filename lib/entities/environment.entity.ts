import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from './typeorm-decorators';
import { EnvironmentDefinition, EnvironmentSettings, EnvironmentType } from '../core/types';

/**
 * A deployment environment (development, staging, production…). `parentId` makes it inherit every
 * field it does not override from its parent.
 *
 * @example
 * await storage.createEnvironment(new Environment({ name: 'Staging', slug: 'staging', parentId: production.id }));
 */
@Entity({ name: 'feature_flag_environments' })
export class Environment implements EnvironmentDefinition {
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'PK_feature_flag_environments' })
  id!: string;

  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Index('UQ_feature_flag_environments_slug', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  slug!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Index('IDX_feature_flag_environments_parent_id')
  @Column({ name: 'parent_id', type: 'varchar', length: 36, nullable: true })
  parentId!: string | null;

  /** The parent row; a parent with children cannot be deleted (storage refuses first, the key backs it). */
  @ManyToOne(() => Environment, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'parent_id', foreignKeyConstraintName: 'FK_feature_flag_environments_parent_id' })
  parent?: Environment;

  @Column({ type: 'varchar', length: 32, default: 'development' })
  type!: EnvironmentType;

  @Column({ type: 'simple-json' })
  settings!: EnvironmentSettings;

  @Column({ name: 'is_active', type: 'boolean', default: true })
  isActive!: boolean;

  @Column({ type: 'int', default: 1 })
  version!: number;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;

  constructor(init?: Partial<Environment>) {
    if (init) Object.assign(this, init);
  }
}
