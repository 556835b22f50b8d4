import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from './typeorm-decorators';
import { JsonValue } from '../core/types';

/** An entry of the audit log, as storage records it (see `AuditEvent`). */
export interface AuditEventDefinition {
  /** Increases with every recorded event: the log's order. */
  id: number;
  /** What happened: `feature-environment-enabled`, `feature-promoted`, `environment-cloned`… */
  type: string;
  /** Who did it (`system` for writes made without a context). */
  actor: string;
  /** The flag concerned, if any. */
  flagKey: string | null;
  /** The environment concerned (slug), if any. */
  environment: string | null;
  /** The record before the change (null: it did not exist). */
  before: JsonValue | null;
  /** The record after the change (null: it was deleted). */
  after: JsonValue | null;
  /** Why, as the writer said. */
  reason: string | null;
  /** Anything else the writer recorded (promotion source, change request id…). */
  data: Record<string, JsonValue> | null;
  createdAt: Date;
}

/**
 * One applied change, recorded by storage in the same transaction as the change itself (TypeORM entity
 * `feature_flag_events`). Read them with `storage.listEvents()` or `GET /api/admin/events`.
 */
@Entity({ name: 'feature_flag_events' })
export class AuditEvent implements AuditEventDefinition {
  @PrimaryGeneratedColumn('increment', { type: 'int', primaryKeyConstraintName: 'PK_feature_flag_events' })
  id!: number;

  @Index('IDX_feature_flag_events_type')
  @Column({ type: 'varchar', length: 64 })
  type!: string;

  @Column({ type: 'varchar', length: 255 })
  actor!: string;

  @Index('IDX_feature_flag_events_flag_key')
  @Column({ name: 'flag_key', type: 'varchar', length: 128, nullable: true })
  flagKey!: string | null;

  @Index('IDX_feature_flag_events_environment')
  @Column({ type: 'varchar', length: 64, nullable: true })
  environment!: string | null;

  @Column({ type: 'simple-json', nullable: true })
  before!: JsonValue | null;

  @Column({ type: 'simple-json', nullable: true })
  after!: JsonValue | null;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ type: 'simple-json', nullable: true })
  data!: Record<string, JsonValue> | null;

  @Index('IDX_feature_flag_events_created_at')
  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  constructor(init?: Partial<AuditEvent>) {
    if (init) Object.assign(this, init);
  }
}
