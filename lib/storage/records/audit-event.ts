import { JsonValue } from '../../core/types';

/** An entry of the audit log, as storage records it (see `AuditEvent`). */
export interface AuditEventDefinition {
  /** Increases with every recorded event: the log's order. */
  id: number;
  /** What happened: `flag-environment-enabled`, `flag-promoted`, `environment-cloned`… */
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
 * One applied change, recorded by storage in the same transaction as the change itself (stored as
 * `feature_flag_events` in SQL). Read them with `storage.listEvents()` or `GET /api/admin/events`.
 */
export class AuditEvent implements AuditEventDefinition {
  id!: number;
  type!: string;
  actor!: string;
  flagKey!: string | null;
  environment!: string | null;
  before!: JsonValue | null;
  after!: JsonValue | null;
  reason!: string | null;
  data!: Record<string, JsonValue> | null;
  createdAt!: Date;

  constructor(init?: Partial<AuditEvent>) {
    if (init) Object.assign(this, init);
  }
}
