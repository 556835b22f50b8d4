import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from './typeorm-decorators';
import { Condition, SegmentDefinition } from '../core/types';

/**
 * A named, reusable set of conditions (e.g. `beta-testers`), referenced from rules with the `in_segment`
 * and `not_in_segment` operators. A segment with a parent matches only when its parent matches too.
 */
@Entity({ name: 'feature_flag_segments' })
export class Segment implements SegmentDefinition {
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'PK_feature_flag_segments' })
  id!: string;

  @Index('UQ_feature_flag_segments_key', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  key!: string;

  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'simple-json' })
  conditions!: Condition[];

  @Column({ name: 'parent_id', type: 'varchar', length: 36, nullable: true })
  parentId!: string | null;

  @Column({ type: 'int', default: 1 })
  version!: number;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;

  constructor(init?: Partial<Segment>) {
    if (init) Object.assign(this, init);
  }
}
