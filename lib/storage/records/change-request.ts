import { JsonValue } from '../../core/types';
import type { StorageWrite } from '../inputs';

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

/** A change request (stored as `feature_flag_change_requests` in SQL). */
export class ChangeRequest implements ChangeRequestDefinition {
  id!: string;
  status!: ChangeRequestStatus;
  title!: string;
  flagKey!: string | null;
  environments!: string[];
  writes!: StorageWrite[];
  preview!: JsonValue | null;
  reason!: string | null;
  createdBy!: string;
  createdById!: string | null;
  createdAt!: Date;
  decidedBy!: string | null;
  decidedById!: string | null;
  decidedAt!: Date | null;
  decisionReason!: string | null;
  version!: number;
  updatedAt!: Date;

  constructor(init?: Partial<ChangeRequest>) {
    if (init) Object.assign(this, init);
  }
}
