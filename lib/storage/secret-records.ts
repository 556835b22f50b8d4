import { randomUUID } from 'node:crypto';
import { FeatureFlagsValidationError } from '../core/errors';
import { JsonValue } from '../core/types';
import { assertSlug, longerThan } from '../core/validation';
import { ApiToken, ClientKey } from './records';
import { copyFields } from './records/copies';
import { AuditEventType, copyApiToken } from './audit';
import { apiTokenState } from './audit-states';
import { ResolvedWriteContext } from './write-context';
import { revokedApiToken } from './admin-records';
import { ClientKeyInput } from './feature-flag-admin-storage.interface';

/**
 * Records whose secret is kept as a SHA-256 hash, created once and revoked once: API tokens and client
 * keys. Each backend implements create / get / find by secret / list / revoke once over a `SecretRecordKind`
 * and exposes it under each record's own names.
 */

/** What API tokens and client keys share. */
export interface SecretRecord {
  id: string;
  name: string;
  secretHash: string;
  secretHint: string;
  revokedAt: Date | null;
  revokedBy: string | null;
  version: number;
}

/** How a kind of secret record is named, copied, audited and revoked. */
export interface SecretRecordKind<T extends SecretRecord> {
  /** The entity name in errors (`AdminRecordNotFoundError`…). */
  readonly entity: 'api token' | 'client key';
  readonly createdEvent: AuditEventType;
  readonly revokedEvent: AuditEventType;
  copy(record: T): T;
  /** The record once revoked by the writer. */
  revoked(record: T, context: ResolvedWriteContext, now?: Date): T;
  /** The audit event's environment, before and after (never the secret's hash). */
  subject(before: T | null, after: T): { environment: string | null; before: JsonValue | null; after: JsonValue };
}

export const API_TOKEN_RECORDS: SecretRecordKind<ApiToken> = {
  entity: 'api token',
  createdEvent: 'api-token-created',
  revokedEvent: 'api-token-revoked',
  copy: copyApiToken,
  revoked: revokedApiToken,
  subject: (before, after) => ({
    environment: null,
    before: before ? apiTokenState(before) : null,
    after: apiTokenState(after),
  }),
};

/** What the audit log keeps of a client key. */
export function clientKeyState(k: ClientKey): JsonValue {
  return {
    id: k.id,
    name: k.name,
    environment: k.environment,
    secretHint: k.secretHint,
    revokedAt: k.revokedAt ? k.revokedAt.toISOString() : null,
  };
}

export const copyClientKey = (k: ClientKey): ClientKey => new ClientKey(copyFields(k));

export const CLIENT_KEY_RECORDS: SecretRecordKind<ClientKey> = {
  entity: 'client key',
  createdEvent: 'client-key-created',
  revokedEvent: 'client-key-revoked',
  copy: copyClientKey,
  revoked: (k, context, now = new Date()) =>
    new ClientKey({ ...k, revokedAt: now, revokedBy: context.actor, version: k.version + 1 }),
  subject: (before, after) => ({
    environment: after.environment,
    before: before ? clientKeyState(before) : null,
    after: clientKeyState(after),
  }),
};

const MAX_NAME = 255;

function fail(field: string, problem: string): never {
  throw new FeatureFlagsValidationError(field, problem);
}

/** A new client key record (validated); `createdBy` is the writer's actor. */
export function buildClientKey(input: ClientKeyInput, context: ResolvedWriteContext, now = new Date()): ClientKey {
  if (typeof input !== 'object' || input === null) fail('input', 'must be an object');
  if (input.id !== undefined && (typeof input.id !== 'string' || input.id === '' || input.id.length > 36))
    fail('id', 'must be a non-empty string of at most 36 characters');
  if (typeof input.name !== 'string' || input.name.trim() === '' || longerThan(input.name, MAX_NAME))
    fail('name', `must be a non-empty string of at most ${MAX_NAME} characters`);
  assertSlug(input.environment, 'environment');
  if (typeof input.secretHash !== 'string' || !/^[0-9a-f]{64}$/.test(input.secretHash))
    fail('secretHash', 'must be a hex SHA-256 (64 characters)');
  if (typeof input.secretHint !== 'string' || input.secretHint.length > 16)
    fail('secretHint', 'must be a string of at most 16 characters');
  return new ClientKey({
    id: input.id ?? randomUUID(),
    name: input.name,
    environment: input.environment,
    secretHash: input.secretHash,
    secretHint: input.secretHint,
    createdBy: context.actor,
    createdAt: now,
    revokedAt: null,
    revokedBy: null,
    version: 1,
  });
}
