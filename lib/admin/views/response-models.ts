import { applyDecorators } from '@nestjs/common';
import { swagger } from '../optional-packages';

const { ApiProperty, ApiResponse, getSchemaPath, ApiExtraModels } = swagger;

/**
 * OpenAPI models of the admin API's answers (the shapes `views.ts` builds). Documentation only: the
 * routes answer plain JSON. Every property states its type (a `string | null` is a nullable string, never
 * an object); every property the views always write is required, null or not.
 */

type Options = Record<string, unknown>;
const str = (o: Options = {}) => ApiProperty({ type: 'string', ...o });
const nstr = (o: Options = {}) => ApiProperty({ type: 'string', nullable: true, ...o });
const int = (o: Options = {}) => ApiProperty({ type: 'integer', ...o });
const nint = (o: Options = {}) => ApiProperty({ type: 'integer', nullable: true, ...o });
const num = (o: Options = {}) => ApiProperty({ type: 'number', ...o });
const nnum = (o: Options = {}) => ApiProperty({ type: 'number', nullable: true, ...o });
const bool = (o: Options = {}) => ApiProperty({ type: 'boolean', ...o });
const nbool = (o: Options = {}) => ApiProperty({ type: 'boolean', nullable: true, ...o });
const strings = (o: Options = {}) => ApiProperty({ type: 'array', items: { type: 'string' }, ...o });
/** A JSON object with any keys. */
const record = (o: Options = {}) => ApiProperty({ type: 'object', additionalProperties: true, ...o });
const nrecord = (o: Options = {}) => ApiProperty({ type: 'object', additionalProperties: true, nullable: true, ...o });
/** Any JSON value, null included. */
const JSON_VALUE = {
  description: 'Any JSON value (null included).',
  anyOf: [
    { type: 'object', additionalProperties: true, nullable: true },
    { type: 'array', items: {} },
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
  ],
};
const json = (o: Options = {}) => ApiProperty({ ...JSON_VALUE, ...o });
const optional = (o: Options = {}) => ({ required: false, ...o });
const DATE = { format: 'date-time' };
/** The JSON null, as OpenAPI 3.0 can say it (it has no null type). */
const NULL = { type: 'object', nullable: true, enum: [null] };

export class ErrorModel {
  @int({ example: 400 }) statusCode!: number;
  @str({ example: 'Bad Request' }) error!: string;
  @str({
    example: 'VALIDATION_FAILED',
    description:
      'Stable code: VALIDATION_FAILED, NOT_FOUND, VERSION_CONFLICT, CONFIRMATION_REQUIRED, ENVIRONMENT_FORBIDDEN, TOO_MANY_AUTH_FAILURES…',
  })
  code!: string;
  @str({ example: 'percentage: must not be greater than 100' }) message!: string;
  @str(optional({ example: 'percentage', description: 'The invalid field (400, 428).' })) field?: string;
  @str(optional({ example: 'production', description: 'The environment refused (403).' })) environment?: string;
}

export class ConditionModel {
  @str({ example: 'country' }) attribute!: string;
  @str({ example: 'in' }) operator!: string;
  @json(optional()) value?: unknown;
  @bool(optional()) negate?: boolean;
  @bool(optional()) caseInsensitive?: boolean;
}

export class RuleModel {
  @nstr() name!: string | null;
  @int() priority!: number;
  @bool() enabled!: boolean;
  @ApiProperty({ type: [ConditionModel] }) conditions!: ConditionModel[];
  @bool() serveEnabled!: boolean;
  @json() serveValue!: unknown;
  @nnum({ minimum: 0, maximum: 100 }) rolloutPercentage!: number | null;
}

export class VariantModel {
  @str() key!: string;
  @json() value!: unknown;
  @num({ minimum: 0 }) weight!: number;
}

export class FlagModel {
  @str({ example: 'new-checkout' }) key!: string;
  @str() name!: string;
  @nstr() description!: string | null;
  @str({ enum: ['boolean', 'string', 'number', 'json'] }) type!: string;
  @str({ enum: ['active', 'inactive', 'archived'] }) status!: string;
  @bool() defaultEnabled!: boolean;
  @json() defaultValue!: unknown;
  @strings() tags!: string[];
  @record() metadata!: Record<string, unknown>;
  @ApiProperty({ type: [RuleModel] }) rules!: RuleModel[];
  @ApiProperty({ type: [VariantModel], nullable: true }) variants!: VariantModel[] | null;
  @int({ description: 'Send it back in If-Match to update only this version.' }) version!: number;
  @nstr(DATE) createdAt!: string | null;
  @nstr(DATE) updatedAt!: string | null;
}

export class FlagSummaryModel {
  @str() key!: string;
  @str() name!: string;
  @nstr() description!: string | null;
  @str({ enum: ['boolean', 'string', 'number', 'json'] }) type!: string;
  @str({ enum: ['active', 'inactive', 'archived'] }) status!: string;
  @strings() tags!: string[];
  @int() version!: number;
}

export class OverrideModel {
  @str({ example: 'staging' }) environment!: string;
  @nbool({ description: 'null: inherited' }) enabled!: boolean | null;
  @nnum({ minimum: 0, maximum: 100 }) percentage!: number | null;
  @ApiProperty({ type: [RuleModel], nullable: true }) rules!: RuleModel[] | null;
  @json() value!: unknown;
  @ApiProperty({ type: [VariantModel], nullable: true }) variants!: VariantModel[] | null;
  @nstr({ description: 'Why this environment differs.' }) reason!: string | null;
  @int() version!: number;
  @nstr(DATE) updatedAt!: string | null;
}

export class ResolvedModel {
  @bool() enabled!: boolean;
  @nnum({ minimum: 0, maximum: 100 }) percentage!: number | null;
  @ApiProperty({ type: [RuleModel] }) rules!: RuleModel[];
  @json() value!: unknown;
  @ApiProperty({ type: [VariantModel], nullable: true }) variants!: VariantModel[] | null;
}

@ApiExtraModels(OverrideModel)
export class FlagInEnvironmentModel {
  @ApiProperty({ type: FlagSummaryModel }) flag!: FlagSummaryModel;
  @str({ example: 'staging' }) environment!: string;
  @strings({ example: ['staging', 'production'] }) chain!: string[];
  @ApiProperty({ type: ResolvedModel }) resolved!: ResolvedModel;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { enabled: 'staging', percentage: 'staging', rules: 'base', value: 'base', variants: 'base' },
    description: 'Who supplied each field: an environment, `<slug>:defaults` or `base`.',
  })
  sources!: Record<string, string>;
  @ApiProperty({
    description: "This environment's own override; null: it inherits everything.",
    anyOf: [{ $ref: getSchemaPath(OverrideModel) }, NULL],
  })
  override!: OverrideModel | null;
  @bool(
    optional({
      description: 'In the answer to a write: false when the write changed nothing (no event, same version).',
    }),
  )
  changed?: boolean;
}

export class FlagWithOverridesModel {
  @ApiProperty({ type: FlagModel }) flag!: FlagModel;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/OverrideModel' } })
  overrides!: Record<string, OverrideModel>;
  @bool(
    optional({
      description: 'In the answer to a write: false when the write changed nothing (no event, same version).',
    }),
  )
  changed?: boolean;
}

export class FlagPageModel {
  @ApiProperty({ type: [FlagModel] }) items!: FlagModel[];
  @int() total!: number;
  @int() limit!: number;
  @int() offset!: number;
}

export class PromotionResultModel {
  @str() flagKey!: string;
  @str() from!: string;
  @str() to!: string;
  @nrecord({ description: "The target's override before (null: none)." }) before!: unknown;
  @record() after!: unknown;
  @bool() changed!: boolean;
  @ApiProperty({
    required: false,
    type: 'array',
    items: {
      type: 'object',
      properties: { environment: { type: 'string' } },
      required: ['environment'],
      additionalProperties: true,
    },
    description: 'Each environment whose answers change: its resolved fields before and after.',
  })
  served?: unknown[];
  @bool() dryRun!: boolean;
  @nint() targetVersion!: number | null;
}

export class PromotionSummaryModel {
  @str() from!: string;
  @str() to!: string;
  @bool() dryRun!: boolean;
  @int({ description: 'How many overrides change.' }) changed!: number;
  @ApiProperty({ type: [PromotionResultModel] }) results!: PromotionResultModel[];
}

export class EnvironmentModel {
  @str({ example: 'staging' }) slug!: string;
  @str() name!: string;
  @nstr() description!: string | null;
  @str({ enum: ['development', 'test', 'preproduction', 'production'] }) type!: string;
  @nstr({ example: 'production' }) parent!: string | null;
  @record() settings!: Record<string, unknown>;
  @bool() isActive!: boolean;
  @bool({ description: 'Changes need "confirm": true.' }) protected!: boolean;
  @bool({ description: 'Changes need an approval by someone else.' }) requiresApproval!: boolean;
  @int() version!: number;
  @nstr(DATE) createdAt!: string | null;
  @nstr(DATE) updatedAt!: string | null;
}

export class EnvironmentListModel {
  @ApiProperty({ type: [EnvironmentModel] }) items!: EnvironmentModel[];
}

export class ChainModel {
  @str() environment!: string;
  @ApiProperty({ type: [EnvironmentModel], description: 'Nearest first.' }) chain!: EnvironmentModel[];
}

export class CloneModel {
  @ApiProperty({ type: EnvironmentModel }) environment!: EnvironmentModel;
  @str() clonedFrom!: string;
  @strings({ description: 'The flags whose override was copied.' }) overrides!: string[];
}

export class CompareModel {
  @str() from!: string;
  @str() to!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { flags: 3, different: 1 } })
  summary!: Record<string, number>;
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'Per flag: what each environment serves, and `differences` (field names).',
  })
  flags!: unknown[];
}

export class EventModel {
  @int() id!: number;
  @str({ example: 'flag-environment-enabled' }) type!: string;
  @str({ example: 'token:ci-deploy' }) actor!: string;
  @nstr() flagKey!: string | null;
  @nstr() environment!: string | null;
  @json() before!: unknown;
  @json() after!: unknown;
  @nstr() reason!: string | null;
  @nrecord() data!: unknown;
  @nstr(DATE) createdAt!: string | null;
}

export class EventPageModel {
  @ApiProperty({ type: [EventModel] }) items!: EventModel[];
  @nint({ description: 'Pass as `before` (or `after`) for the next page; null: no more.' }) nextCursor!: number | null;
}

export class ApiTokenModel {
  @str() id!: string;
  @str() name!: string;
  @str({ enum: ['admin', 'read-only'] }) type!: string;
  @strings({ example: ['*'] }) environments!: string[];
  @str({ example: 'ffa_AbCd' }) secretHint!: string;
  @str({ enum: ['active', 'expired', 'revoked'] }) status!: string;
  @str() createdBy!: string;
  @nstr({ description: 'The id of the principal that created it (`bootstrap-token`, a user id, a token id).' })
  createdById!: string | null;
  @str({
    description:
      "The principal it acts as for the two-person rule: its own id, or (created by another token) that token's principal.",
  })
  actsAs!: string;
  @nstr(DATE) createdAt!: string | null;
  @nstr(DATE) expiresAt!: string | null;
  @nstr(DATE) revokedAt!: string | null;
  @nstr() revokedBy!: string | null;
}

export class ApiTokenListModel {
  @ApiProperty({ type: [ApiTokenModel] }) items!: ApiTokenModel[];
}

export class CreatedApiTokenModel {
  @ApiProperty({ type: ApiTokenModel }) token!: ApiTokenModel;
  @str({ example: 'ffa_3q2-…', description: 'The secret: shown in this answer only.' }) secret!: string;
  @str() note!: string;
}

export class ClientKeyModel {
  @str() id!: string;
  @str() name!: string;
  @str({ example: 'production' }) environment!: string;
  @str({ example: 'ffc_AbCd' }) secretHint!: string;
  @str({ enum: ['active', 'revoked'] }) status!: string;
  @str() createdBy!: string;
  @nstr(DATE) createdAt!: string | null;
  @nstr(DATE) revokedAt!: string | null;
  @nstr() revokedBy!: string | null;
}

export class ClientKeyListModel {
  @ApiProperty({ type: [ClientKeyModel] }) items!: ClientKeyModel[];
}

export class CreatedClientKeyModel {
  @ApiProperty({ type: ClientKeyModel }) clientKey!: ClientKeyModel;
  @str({ example: 'ffc_3q2-…', description: 'The secret: shown in this answer only.' }) secret!: string;
  @str() note!: string;
}

export class ChangeRequestModel {
  @str() id!: string;
  @str({ enum: ['pending', 'applied', 'rejected'] }) status!: string;
  @str() title!: string;
  @nstr() flagKey!: string | null;
  @strings() environments!: string[];
  @json({ description: 'What the change does (before/after).' }) preview!: unknown;
  @nstr() reason!: string | null;
  @str() createdBy!: string;
  @nstr(DATE) createdAt!: string | null;
  @nstr() decidedBy!: string | null;
  @nstr(DATE) decidedAt!: string | null;
  @nstr() decisionReason!: string | null;
  @int() version!: number;
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'The storage writes approval applies.',
  })
  writes!: unknown[];
}

export class ChangeRequestListModel {
  @ApiProperty({ type: [ChangeRequestModel] }) items!: ChangeRequestModel[];
}

export class PendingChangeModel {
  @str({ enum: ['pending'] }) status!: string;
  @str() message!: string;
  @ApiProperty({ type: ChangeRequestModel }) changeRequest!: ChangeRequestModel;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input: `field` names it (unknown fields, wrong types, lengths, patterns, ranges, nesting deeper than 32 levels, a value not of the flag type…).',
  401: 'No valid `Authorization: Bearer <token>` (counted against the client: see 429).',
  403: 'The token is read-only, or not allowed in the environment (named in `environment`), or may not approve this request.',
  404: 'Unknown flag, environment, override, token, client key or change request.',
  409: 'Conflict: stale version (If-Match), already exists, nothing to promote, environment cycle, too deep or in use, not pending, not archived.',
  413: 'Body larger than the admin body limit.',
  415: 'A body that is not JSON.',
  428: 'A protected environment: repeat with `"confirm": true`.',
  429: 'Too many failed authentication attempts from this client (`authThrottle`): retry after `Retry-After` seconds.',
  503: 'The store cannot be reached.',
};

const ERROR_HEADERS: Record<number, Record<string, { description: string; schema: Record<string, unknown> }>> = {
  401: { 'WWW-Authenticate': { description: 'Bearer realm="feature-flags-admin"', schema: { type: 'string' } } },
  429: {
    'Retry-After': { description: 'Seconds until the client may try again.', schema: { type: 'integer', minimum: 1 } },
  },
};

/** What every admin route can answer besides its own: bad input, authentication, size, throttling, store. */
const EVERY_ROUTE = [400, 401, 403, 413, 429, 503];

/** Documents the error answers of a route (the admin exception filter's JSON): every route's, and `statuses`. */
export function ApiAdminErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  const all = [...new Set([...EVERY_ROUTE, ...statuses])].sort();
  return applyDecorators(
    ApiExtraModels(ErrorModel),
    ...all.map((status) =>
      ApiResponse({
        status,
        description: ERROR_DESCRIPTIONS[status],
        schema: { $ref: getSchemaPath(ErrorModel) },
        ...(ERROR_HEADERS[status] ? { headers: ERROR_HEADERS[status] } : {}),
      }),
    ),
  );
}

/** Documents the 202 answer of a write that a protected environment turned into a change request. */
export function ApiPendingChange(): MethodDecorator & ClassDecorator {
  return ApiResponse({
    status: 202,
    description: 'The environment requires approval: a pending change request was created; nothing is applied yet.',
    type: PendingChangeModel,
  });
}
