/**
 * The records storage keeps, as plain classes: every backend (memory, TypeORM, Redis) stores and returns
 * these. The TypeORM backend maps them to tables in `../typeorm/entities`.
 */
export { Flag, FlagRule } from './flag';
export { Environment } from './environment';
export { Override } from './override';
export { Segment } from './segment';
export { AuditEvent } from './audit-event';
export type { AuditEventDefinition } from './audit-event';
export { API_TOKEN_TYPES, ApiToken } from './api-token';
export type { ApiTokenDefinition, ApiTokenType } from './api-token';
export { ClientKey } from './client-key';
export type { ClientKeyDefinition } from './client-key';
export { CHANGE_REQUEST_STATUSES, ChangeRequest } from './change-request';
export type { ChangeRequestDefinition, ChangeRequestStatus } from './change-request';
export { copyEnvironment, copyFlag, copyOverride, copySegment } from './copies';
