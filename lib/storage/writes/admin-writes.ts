import {
  AdminRecordAlreadyExistsError,
  AdminRecordNotFoundError,
  ChangeRequestNotPendingError,
} from '../feature-flag-admin-storage.interface';
import { auditEvent, changeRequestSubject, copyChangeRequest } from '../audit';
import { ResolvedWriteContext } from '../write-context';
import { RecordTransaction, StoredRecords } from '../record-transaction';
import { ChangeRequest } from '../records';
import { SecretRecordKind } from '../secret-records';
import { assertVersion } from '../storage-records';

/*
 * The writes of the admin storage (API tokens, client keys, change requests), once for every backend,
 * inside the backend's transaction `tx`. Records are built (and validated) before the transaction.
 */

type SecretKind = 'apiToken' | 'clientKey';

export async function createSecretRecord<K extends SecretKind>(
  tx: RecordTransaction,
  kind: K,
  records: SecretRecordKind<StoredRecords[K]>,
  record: StoredRecords[K],
  ctx: ResolvedWriteContext,
): Promise<StoredRecords[K]> {
  tx.duplicate = () => new AdminRecordAlreadyExistsError(records.entity, record.secretHint);
  if (await tx.exists(kind, { id: record.id })) throw new AdminRecordAlreadyExistsError(records.entity, record.id);
  if (await tx.exists(kind, { secretHash: record.secretHash }))
    throw new AdminRecordAlreadyExistsError(records.entity, record.secretHint);
  await tx.insert(kind, record);
  await tx.audit(auditEvent(records.createdEvent, ctx, records.subject(null, record)));
  return records.copy(record);
}

/** Revokes a record from now on; revoking a revoked one changes nothing and records nothing. */
export async function revokeSecretRecord<K extends SecretKind>(
  tx: RecordTransaction,
  kind: K,
  records: SecretRecordKind<StoredRecords[K]>,
  id: string,
  ctx: ResolvedWriteContext,
): Promise<StoredRecords[K]> {
  const record = typeof id === 'string' ? await tx.find(kind, { id }, true) : null;
  if (!record) throw new AdminRecordNotFoundError(records.entity, String(id));
  if (record.revokedAt) return records.copy(record);
  const next = records.revoked(record, ctx);
  await tx.update(kind, record, next);
  await tx.audit(auditEvent(records.revokedEvent, ctx, records.subject(record, next)));
  return records.copy(next);
}

export async function createChangeRequest(
  tx: RecordTransaction,
  request: ChangeRequest,
  ctx: ResolvedWriteContext,
): Promise<ChangeRequest> {
  tx.duplicate = () => new AdminRecordAlreadyExistsError('change request', request.id);
  if (await tx.exists('changeRequest', { id: request.id })) throw tx.duplicate();
  await tx.insert('changeRequest', request);
  await tx.audit(auditEvent('change-request-created', ctx, changeRequestSubject(request, null)));
  return copyChangeRequest(request);
}

/** The pending change request `id` (at `version`, when given), held until the transaction ends. */
export async function pendingChangeRequest(
  tx: RecordTransaction,
  id: string,
  version: number | undefined,
): Promise<ChangeRequest> {
  const request = typeof id === 'string' ? await tx.find('changeRequest', { id }, true) : null;
  if (!request) throw new AdminRecordNotFoundError('change request', String(id));
  if (request.status !== 'pending') throw new ChangeRequestNotPendingError(id, request.status);
  assertVersion('change request', id, request.version, version);
  return request;
}
