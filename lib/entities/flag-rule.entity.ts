import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from './typeorm-decorators';
import { Condition, FlagRuleDefinition, FlagValue } from '../core/types';
import type { Flag } from './flag.entity';

/**
 * A targeting rule of a flag's base definition. Rules are tried by ascending `priority`; the first whose
 * conditions all hold decides. (An environment overrides a flag's rules as a whole, in
 * `EnvironmentFlag.rules`.)
 */
@Entity({ name: 'feature_flag_rules' })
export class FlagRule implements FlagRuleDefinition {
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'PK_feature_flag_rules' })
  id!: string;

  @Index('IDX_feature_flag_rules_flag_id')
  @Column({ name: 'flag_id', type: 'varchar', length: 36 })
  flagId!: string;

  @ManyToOne('Flag', 'rules', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'flag_id', foreignKeyConstraintName: 'FK_feature_flag_rules_flag_id' })
  flag?: Flag;

  @Column({ type: 'varchar', length: 255, nullable: true })
  name!: string | null;

  @Column({ type: 'int', default: 0 })
  priority!: number;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ type: 'simple-json' })
  conditions!: Condition[];

  @Column({ name: 'serve_enabled', type: 'boolean', default: true })
  serveEnabled!: boolean;

  @Column({ name: 'serve_value', type: 'simple-json', nullable: true })
  serveValue!: FlagValue | null;

  @Column({ name: 'rollout_percentage', type: 'double precision', nullable: true })
  rolloutPercentage!: number | null;

  /**
   * Storage-internal: the rule's index in its flag's list, so that rules of equal priority come back in
   * the order they were written (evaluation breaks priority ties by that order). Never selected.
   */
  @Column({ type: 'int', default: 0, select: false })
  position?: number;

  constructor(init?: Partial<FlagRule>) {
    if (init) Object.assign(this, init);
  }
}
