import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from './typeorm-decorators';
import { JsonValue } from '../core/types';
import type { StorageWrite } from '../storage/feature-flag-storage.interface';

export const CHANGE_REQUEST_STATUSES = ['pending', 'applied', 'rejected'] as const;
/** `pending` until someone decides: `applied` (approved, and applied in the same transaction) or `rejected`. */
export type ChangeRequestStatus = (typeof CHANGE_REQUEST_STATUSES)[number];

/** A change to a protected environment waiting for a second person's approval (see `ChangeRequest`). */
export interface ChangeRequestDefinition {
  id: string;
  status: ChangeRequestStatus;
  /** What the change does, in a sentence. */
  title: string;
  /** The flag concerned, if one. */
  flagKey: string | null;
  /** The environments (slugs) the change touches: whoever decides must be allowed in all of them. */
  environments: string[];
  /** The storage writes that approval applies, all or nothing. */
  writes: StorageWrite[];
  /** What the change would do, for the reviewer (before/after as computed when it was requested). */
  preview: JsonValue | null;
  reason: string | null;
  createdBy: string;
  /** The principal who asked (a token id or a user id): it may not approve its own request. */
  createdById: string | null;
  createdAt: Date;
  decidedBy: string | null;
  decidedById: string | null;
  decidedAt: Date | null;
  decisionReason: string | null;
  version: number;
  updatedAt: Date;
}

/** A change request (TypeORM entity `feature_flag_change_requests`). */
@Entity({ name: 'feature_flag_change_requests' })
export class ChangeRequest implements ChangeRequestDefinition {
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'PK_feature_flag_change_requests' })
  id!: string;

  @Index('IDX_feature_flag_change_requests_status')
  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status!: ChangeRequestStatus;

  @Column({ type: 'varchar', length: 255 })
  title!: string;

  @Column({ name: 'flag_key', type: 'varchar', length: 128, nullable: true })
  flagKey!: string | null;

  @Column({ type: 'simple-json' })
  environments!: string[];

  @Column({ type: 'simple-json' })
  writes!: StorageWrite[];

  @Column({ type: 'simple-json', nullable: true })
  preview!: JsonValue | null;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 255 })
  createdBy!: string;

  @Column({ name: 'created_by_id', type: 'varchar', length: 255, nullable: true })
  createdById!: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @Column({ name: 'decided_by', type: 'varchar', length: 255, nullable: true })
  decidedBy!: string | null;

  @Column({ name: 'decided_by_id', type: 'varchar', length: 255, nullable: true })
  decidedById!: string | null;

  @Column({ name: 'decided_at', type: Date, precision: 6, nullable: true })
  decidedAt!: Date | null;

  @Column({ name: 'decision_reason', type: 'text', nullable: true })
  decisionReason!: string | null;

  @Column({ type: 'int', default: 1 })
  version!: number;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;

  constructor(init?: Partial<ChangeRequest>) {
    if (init) Object.assign(this, init);
  }
}
