import { ApiToken } from './api-token.entity';
import { AuditEvent } from './audit-event.entity';
import { ChangeRequest } from './change-request.entity';
import { ClientKey } from './client-key.entity';
import { Environment } from './environment.entity';
import { EnvironmentFlag } from './environment-flag.entity';
import { Flag } from './flag.entity';
import { FlagRule } from './flag-rule.entity';
import { Segment } from './segment.entity';

export { ApiToken, AuditEvent, ChangeRequest, ClientKey, Environment, EnvironmentFlag, Flag, FlagRule, Segment };
export { API_TOKEN_TYPES } from './api-token.entity';
export type { ApiTokenDefinition, ApiTokenType } from './api-token.entity';
export type { AuditEventDefinition } from './audit-event.entity';
export { CHANGE_REQUEST_STATUSES } from './change-request.entity';
export type { ChangeRequestDefinition, ChangeRequestStatus } from './change-request.entity';
export type { ClientKeyDefinition } from './client-key.entity';

/** Every TypeORM entity of the module: add them to your own `TypeOrmModule` when sharing its connection. */
export const FEATURE_FLAG_ENTITIES = [Flag, FlagRule, Environment, EnvironmentFlag, Segment, AuditEvent, ApiToken, ChangeRequest, ClientKey] as const;
