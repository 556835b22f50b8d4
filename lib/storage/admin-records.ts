import { randomUUID } from 'node:crypto';
import { FeatureFlagsValidationError } from '../core/errors';
import { assertFlagKey, assertSlug, longerThan } from '../core/validation';
import { API_TOKEN_TYPES, ApiToken, ChangeRequest, ChangeRequestStatus, CHANGE_REQUEST_STATUSES } from './records';
import { assertJsonSize, assertWrites, ResolvedWriteContext } from './write-context';
import {
  ApiTokenInput,
  ChangeRequestDecision,
  ChangeRequestFilter,
  ChangeRequestInput,
} from './feature-flag-admin-storage.interface';

/** Record builders of the admin storage, shared by every backend (validation and defaults alike). */

const MAX_NAME = 255;
/** The most writes one change request may hold. */
export const MAX_CHANGE_REQUEST_WRITES = 100;

function fail(field: string, problem: string): never {
  throw new FeatureFlagsValidationError(field, problem);
}

function assertName(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '' || longerThan(value, MAX_NAME))
    fail(field, `must be a non-empty string of at most ${MAX_NAME} characters`);
}

function assertId(value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || value === '' || value.length > 36))
    fail('id', 'must be a non-empty string of at most 36 characters');
}

function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]' && !Number.isNaN((value as Date).getTime());
}

/** Checks a token's environment list: `['*']`, or environment slugs without duplicates. */
export function assertTokenEnvironments(
  environments: unknown,
  field = 'environments',
): asserts environments is string[] {
  if (!Array.isArray(environments) || environments.length === 0)
    fail(field, 'must be a non-empty array of environment slugs, or ["*"]');
  if (environments.includes('*')) {
    if (environments.length !== 1) fail(field, '"*" (every environment) cannot be combined with slugs');
    return;
  }
  environments.forEach((slug, i) => assertSlug(slug, `${field}[${i}]`));
  if (new Set(environments).size !== environments.length) fail(field, 'names an environment twice');
}

/** A new token record (validated); `createdBy` is the writer's actor. */
export function buildApiToken(input: ApiTokenInput, context: ResolvedWriteContext, now = new Date()): ApiToken {
  if (typeof input !== 'object' || input === null) fail('input', 'must be an object');
  assertId(input.id);
  assertName(input.name, 'name');
  if (!(API_TOKEN_TYPES as readonly unknown[]).includes(input.type))
    fail('type', `must be one of ${API_TOKEN_TYPES.join(', ')}`);
  assertTokenEnvironments(input.environments);
  if (typeof input.secretHash !== 'string' || !/^[0-9a-f]{64}$/.test(input.secretHash))
    fail('secretHash', 'must be a hex SHA-256 (64 characters)');
  if (typeof input.secretHint !== 'string' || input.secretHint.length > 16)
    fail('secretHint', 'must be a string of at most 16 characters');
  if (input.expiresAt !== undefined && input.expiresAt !== null && !isDate(input.expiresAt))
    fail('expiresAt', 'must be a Date or null');
  for (const field of ['createdById', 'principalId'] as const) {
    const v = input[field];
    if (v !== undefined && v !== null && (typeof v !== 'string' || v === '' || longerThan(v, MAX_NAME)))
      fail(field, `must be a non-empty string of at most ${MAX_NAME} characters`);
  }
  return new ApiToken({
    id: input.id ?? randomUUID(),
    name: input.name,
    type: input.type,
    environments: [...input.environments],
    secretHash: input.secretHash,
    secretHint: input.secretHint,
    createdBy: context.actor,
    createdById: input.createdById ?? null,
    principalId: input.principalId ?? null,
    createdAt: now,
    expiresAt: input.expiresAt ?? null,
    revokedAt: null,
    revokedBy: null,
    version: 1,
  });
}

/** The token once revoked. */
export function revokedApiToken(token: ApiToken, context: ResolvedWriteContext, now = new Date()): ApiToken {
  return new ApiToken({ ...token, revokedAt: now, revokedBy: context.actor, version: token.version + 1 });
}

/** A new, pending change request (validated); `createdBy` is the writer's actor. */
export function buildChangeRequest(
  input: ChangeRequestInput,
  context: ResolvedWriteContext,
  now = new Date(),
): ChangeRequest {
  if (typeof input !== 'object' || input === null) fail('input', 'must be an object');
  assertId(input.id);
  assertName(input.title, 'title');
  if (input.flagKey !== undefined && input.flagKey !== null) assertFlagKey(input.flagKey, 'flagKey');
  if (!Array.isArray(input.environments) || input.environments.length === 0)
    fail('environments', 'must be a non-empty array of environment slugs');
  input.environments.forEach((slug, i) => assertSlug(slug, `environments[${i}]`));
  assertWrites(input.writes, 'writes', MAX_CHANGE_REQUEST_WRITES);
  if (input.writes.length === 0) fail('writes', 'must hold at least one write');
  assertJsonSize(input.writes, 'writes');
  if (input.preview !== undefined && input.preview !== null) assertJsonSize(input.preview, 'preview');
  if (
    input.createdById !== undefined &&
    input.createdById !== null &&
    (typeof input.createdById !== 'string' || longerThan(input.createdById, MAX_NAME))
  ) {
    fail('createdById', `must be a string of at most ${MAX_NAME} characters`);
  }
  return new ChangeRequest({
    id: input.id ?? randomUUID(),
    status: 'pending',
    title: input.title,
    flagKey: input.flagKey ?? null,
    environments: [...new Set(input.environments)],
    writes: structuredClone(input.writes),
    preview: input.preview === undefined ? null : structuredClone(input.preview),
    reason: context.reason,
    createdBy: context.actor,
    createdById: input.createdById ?? null,
    createdAt: now,
    decidedBy: null,
    decidedById: null,
    decidedAt: null,
    decisionReason: null,
    version: 1,
    updatedAt: now,
  });
}

/** Checks a decision; returns it with defaults. */
export function resolveDecision(
  decision: ChangeRequestDecision,
): Required<Omit<ChangeRequestDecision, 'version'>> & { version?: number } {
  if (typeof decision !== 'object' || decision === null) fail('decision', 'must be an object');
  assertName(decision.actor, 'decision.actor');
  if (decision.actorId !== undefined && decision.actorId !== null && typeof decision.actorId !== 'string')
    fail('decision.actorId', 'must be a string');
  if (decision.reason !== undefined && decision.reason !== null && typeof decision.reason !== 'string')
    fail('decision.reason', 'must be a string');
  if (decision.version !== undefined && !Number.isInteger(decision.version))
    fail('decision.version', 'must be an integer');
  return {
    actor: decision.actor,
    actorId: decision.actorId ?? null,
    reason: decision.reason ?? null,
    version: decision.version,
  };
}

/** The change request once decided. */
export function decidedChangeRequest(
  request: ChangeRequest,
  status: Exclude<ChangeRequestStatus, 'pending'>,
  decision: ReturnType<typeof resolveDecision>,
  now = new Date(),
): ChangeRequest {
  return new ChangeRequest({
    ...request,
    status,
    decidedBy: decision.actor,
    decidedById: decision.actorId,
    decidedAt: now,
    decisionReason: decision.reason,
    version: request.version + 1,
    updatedAt: now,
  });
}

/** Checks a change-request filter. */
export function assertChangeRequestFilter(filter: ChangeRequestFilter | undefined): void {
  if (!filter) return;
  const statuses = filter.status === undefined ? [] : Array.isArray(filter.status) ? filter.status : [filter.status];
  for (const s of statuses)
    if (!(CHANGE_REQUEST_STATUSES as readonly unknown[]).includes(s))
      fail('filter.status', `must be one of ${CHANGE_REQUEST_STATUSES.join(', ')}`);
  if (filter.environment !== undefined && typeof filter.environment !== 'string')
    fail('filter.environment', 'must be a string');
  if (filter.flagKey !== undefined && typeof filter.flagKey !== 'string') fail('filter.flagKey', 'must be a string');
}

/** Whether a change request passes a filter. */
export function changeRequestMatches(c: ChangeRequest, filter: ChangeRequestFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.status !== undefined) {
    const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
    if (!statuses.includes(c.status)) return false;
  }
  if (filter.environment !== undefined && !c.environments.includes(filter.environment)) return false;
  if (filter.flagKey !== undefined && c.flagKey !== filter.flagKey) return false;
  return true;
}
