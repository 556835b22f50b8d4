import { FeatureFlagsError } from '../core/errors';
import { JsonValue } from '../core/types';
import { ApiToken, ApiTokenType, ChangeRequest, ChangeRequestStatus, ClientKey } from './records';
import { StorageWrite, StorageWriteResult, WriteContext } from './feature-flag-storage.interface';

/** What `createApiToken` takes: the secret's hash, never the secret. */
export interface ApiTokenInput {
  /** Default: a new UUID. */
  id?: string;
  name: string;
  type: ApiTokenType;
  /** Environment slugs, or `['*']` for every environment. */
  environments: string[];
  /** Hex SHA-256 of the secret (64 characters). */
  secretHash: string;
  /** The first characters of the secret, shown in lists to recognize it. */
  secretHint: string;
  /** Null or absent: the token never expires. */
  expiresAt?: Date | null;
  /** The id of the principal creating it. */
  createdById?: string | null;
  /** The principal it acts as for the two-person rule; null or absent: itself. */
  principalId?: string | null;
}

/** What `createClientKey` takes: the secret's hash, never the secret. */
export interface ClientKeyInput {
  /** Default: a new UUID. */
  id?: string;
  name: string;
  /** The environment (slug) the key evaluates in. */
  environment: string;
  /** Hex SHA-256 of the secret (64 characters). */
  secretHash: string;
  /** The first characters of the secret, shown in lists to recognize it. */
  secretHint: string;
}

/** What `createChangeRequest` takes. */
export interface ChangeRequestInput {
  /** Default: a new UUID. */
  id?: string;
  title: string;
  flagKey?: string | null;
  /** The environments (slugs) the change touches. */
  environments: string[];
  /** The writes approval applies, all or nothing (at most 100). */
  writes: StorageWrite[];
  /** What the change would do, for the reviewer. */
  preview?: JsonValue | null;
  /** The id of the principal who asks (it may not approve its own request). */
  createdById?: string | null;
}

/** Filters of `listChangeRequests`. */
export interface ChangeRequestFilter {
  status?: ChangeRequestStatus | ChangeRequestStatus[];
  /** Requests that touch this environment. */
  environment?: string;
  flagKey?: string;
}

/** Who decides on a change request. */
export interface ChangeRequestDecision {
  /** Recorded as the decider, and as the actor of the decision's audit event. */
  actor: string;
  /** The decider's principal id. */
  actorId?: string | null;
  reason?: string | null;
  /** The request's version the decider saw; a stale one is refused with VersionConflictError. */
  version?: number;
}

/** What approving a change request did. */
export interface ChangeRequestApproval {
  changeRequest: ChangeRequest;
  /** The result of each of its writes, in order. */
  results: StorageWriteResult[];
}

/** A change request that was already decided cannot be decided again. */
export class ChangeRequestNotPendingError extends FeatureFlagsError {
  override readonly code: string = 'CHANGE_REQUEST_NOT_PENDING';
  constructor(
    readonly id: string,
    readonly status: ChangeRequestStatus,
  ) {
    super(`Change request "${id}" is ${status}, not pending: it cannot be decided again.`);
  }
}

/**
 * An API token, client key or change request that does not exist, or a create that would duplicate one:
 * the same errors as for flags and environments (one not-found error, one already-exists error).
 */
export {
  AlreadyExistsError as AdminRecordAlreadyExistsError,
  NotFoundError as AdminRecordNotFoundError,
} from '../core/errors';

/**
 * Where the admin API keeps its API tokens, client keys and change requests: a second contract, implemented by the same
 * backends as `FeatureFlagStorage` (MemoryStorage, TypeOrmStorage) and run by the same contract suite.
 * Every applied write records one audit event, as in `FeatureFlagStorage`.
 */
export interface FeatureFlagAdminStorage {
  /** Stores a token (records `api-token-created`). @throws AdminRecordAlreadyExistsError for a duplicate id or secret hash. */
  createApiToken(input: ApiTokenInput, context?: WriteContext): Promise<ApiToken>;
  getApiToken(id: string): Promise<ApiToken | null>;
  /** The token whose secret hashes to `secretHash`, revoked and expired ones included. */
  findApiTokenBySecretHash(secretHash: string): Promise<ApiToken | null>;
  /** Every token, oldest first. */
  listApiTokens(): Promise<ApiToken[]>;
  /**
   * Revokes a token from now on (records `api-token-revoked`). Revoking a revoked token changes nothing
   * and records nothing. @throws AdminRecordNotFoundError for an unknown id.
   */
  revokeApiToken(id: string, context?: WriteContext): Promise<ApiToken>;

  /**
   * Stores an environment-scoped client key (records `client-key-created`).
   * @throws AdminRecordAlreadyExistsError for a duplicate id or secret hash.
   */
  createClientKey(input: ClientKeyInput, context?: WriteContext): Promise<ClientKey>;
  getClientKey(id: string): Promise<ClientKey | null>;
  /** The key whose secret hashes to `secretHash`, revoked ones included. */
  findClientKeyBySecretHash(secretHash: string): Promise<ClientKey | null>;
  /** Every client key, oldest first. */
  listClientKeys(): Promise<ClientKey[]>;
  /**
   * Revokes a key from now on (records `client-key-revoked`). Revoking a revoked key changes nothing and
   * records nothing. @throws AdminRecordNotFoundError for an unknown id.
   */
  revokeClientKey(id: string, context?: WriteContext): Promise<ClientKey>;

  /** Stores a pending change request (records `change-request-created`). */
  createChangeRequest(input: ChangeRequestInput, context?: WriteContext): Promise<ChangeRequest>;
  getChangeRequest(id: string): Promise<ChangeRequest | null>;
  /** Change requests, newest first. */
  listChangeRequests(filter?: ChangeRequestFilter): Promise<ChangeRequest[]>;
  /**
   * In one transaction: marks a pending request `applied`, applies its writes (each recording its own
   * event, by the requester, with `changeRequestId` and `approvedBy` in its data) and records
   * `change-request-approved`. If a write is refused (say the flag changed since: VersionConflictError),
   * nothing happens and the request stays pending.
   * @throws ChangeRequestNotPendingError when it was already decided; AdminRecordNotFoundError.
   */
  approveChangeRequest(id: string, decision: ChangeRequestDecision): Promise<ChangeRequestApproval>;
  /** Marks a pending request `rejected` (records `change-request-rejected`). */
  rejectChangeRequest(id: string, decision: ChangeRequestDecision): Promise<ChangeRequest>;
}

/** Injection token of the admin storage (the module's storage, when its backend implements the contract). */
export const FeatureFlagAdminStorage = Symbol('FeatureFlagAdminStorage');

/** Whether a storage also implements `FeatureFlagAdminStorage`. */
export function isFeatureFlagAdminStorage(storage: unknown): storage is FeatureFlagAdminStorage {
  const s = storage as Record<string, unknown> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    [
      'createApiToken',
      'findApiTokenBySecretHash',
      'revokeApiToken',
      'createClientKey',
      'findClientKeyBySecretHash',
      'listClientKeys',
      'revokeClientKey',
      'createChangeRequest',
      'approveChangeRequest',
      'rejectChangeRequest',
    ].every((method) => typeof s[method] === 'function')
  );
}
