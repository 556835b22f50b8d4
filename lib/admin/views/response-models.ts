import { applyDecorators } from '@nestjs/common';
import { swagger } from '../optional-packages';

const { ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath, ApiExtraModels } = swagger;

/**
 * OpenAPI models of the admin API's answers (the shapes `views.ts` builds). Documentation only: the
 * routes answer plain JSON.
 */

const json = { description: 'Any JSON value', nullable: true, oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'object' }, { type: 'array', items: {} }] };

export class ErrorModel {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'Bad Request' }) error!: string;
  @ApiProperty({ example: 'VALIDATION_FAILED', description: 'Stable code: VALIDATION_FAILED, NOT_FOUND, VERSION_CONFLICT, CONFIRMATION_REQUIRED, ENVIRONMENT_FORBIDDEN…' })
  code!: string;
  @ApiProperty({ example: 'percentage: must not be greater than 100' }) message!: string;
  @ApiPropertyOptional({ example: 'percentage', description: 'The invalid field (400).' }) field?: string;
  @ApiPropertyOptional({ example: 'production', description: 'The environment refused (403, 428).' }) environment?: string;
}

export class RuleModel {
  @ApiPropertyOptional({ nullable: true }) name!: string | null;
  @ApiProperty() priority!: number;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: 'array', items: { type: 'object' } }) conditions!: unknown[];
  @ApiProperty() serveEnabled!: boolean;
  @ApiPropertyOptional(json) serveValue!: unknown;
  @ApiPropertyOptional({ nullable: true }) rolloutPercentage!: number | null;
}

export class FlagModel {
  @ApiProperty({ example: 'new-checkout' }) key!: string;
  @ApiProperty() name!: string;
  @ApiPropertyOptional({ nullable: true }) description!: string | null;
  @ApiProperty({ enum: ['boolean', 'string', 'number', 'json'] }) type!: string;
  @ApiProperty({ enum: ['active', 'inactive', 'archived'] }) status!: string;
  @ApiProperty() defaultEnabled!: boolean;
  @ApiPropertyOptional(json) defaultValue!: unknown;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata!: Record<string, unknown>;
  @ApiProperty({ type: [RuleModel] }) rules!: RuleModel[];
  @ApiPropertyOptional({ nullable: true, type: 'array', items: { type: 'object' } }) variants!: unknown[] | null;
  @ApiProperty({ description: 'Send it back in If-Match to update only this version.' }) version!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class OverrideModel {
  @ApiProperty({ example: 'staging' }) environment!: string;
  @ApiPropertyOptional({ nullable: true, description: 'null: inherited' }) enabled!: boolean | null;
  @ApiPropertyOptional({ nullable: true }) percentage!: number | null;
  @ApiPropertyOptional({ nullable: true, type: [RuleModel] }) rules!: RuleModel[] | null;
  @ApiPropertyOptional(json) value!: unknown;
  @ApiPropertyOptional({ nullable: true, type: 'array', items: { type: 'object' } }) variants!: unknown[] | null;
  @ApiPropertyOptional({ nullable: true, description: 'Why this environment differs.' }) reason!: string | null;
  @ApiProperty() version!: number;
  @ApiProperty() updatedAt!: string;
}

export class ResolvedModel {
  @ApiProperty() enabled!: boolean;
  @ApiPropertyOptional({ nullable: true }) percentage!: number | null;
  @ApiProperty({ type: [RuleModel] }) rules!: RuleModel[];
  @ApiPropertyOptional(json) value!: unknown;
  @ApiPropertyOptional({ nullable: true, type: 'array', items: { type: 'object' } }) variants!: unknown[] | null;
}

export class FlagInEnvironmentModel {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'key, name, description, type, status, tags, version of the base flag' }) flag!: Record<string, unknown>;
  @ApiProperty({ example: 'staging' }) environment!: string;
  @ApiProperty({ type: [String], example: ['staging', 'production'] }) chain!: string[];
  @ApiProperty({ type: ResolvedModel }) resolved!: ResolvedModel;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { enabled: 'staging', percentage: 'staging', rules: 'base', value: 'base', variants: 'base' },
    description: 'Who supplied each field: an environment, `<slug>:defaults` or `base`.',
  })
  sources!: Record<string, string>;
  @ApiPropertyOptional({ type: OverrideModel, nullable: true }) override!: OverrideModel | null;
  @ApiPropertyOptional({ description: 'In the answer to a write: false when the write changed nothing (no event, same version).' }) changed?: boolean;
}

export class FlagWithOverridesModel {
  @ApiProperty({ type: FlagModel }) flag!: FlagModel;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/OverrideModel' } }) overrides!: Record<string, OverrideModel>;
  @ApiPropertyOptional({ description: 'In the answer to a write: false when the write changed nothing (no event, same version).' }) changed?: boolean;
}

export class FlagPageModel {
  @ApiProperty({ type: [FlagModel] }) items!: FlagModel[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

export class PromotionResultModel {
  @ApiProperty() flagKey!: string;
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true, description: "The target's override before (null: none)." }) before!: unknown;
  @ApiProperty({ type: 'object', additionalProperties: true }) after!: unknown;
  @ApiProperty() changed!: boolean;
  @ApiProperty() dryRun!: boolean;
  @ApiPropertyOptional({ nullable: true }) targetVersion!: number | null;
}

export class PromotionSummaryModel {
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiProperty() dryRun!: boolean;
  @ApiProperty({ description: 'How many overrides change.' }) changed!: number;
  @ApiProperty({ type: [PromotionResultModel] }) results!: PromotionResultModel[];
}

export class EnvironmentModel {
  @ApiProperty({ example: 'staging' }) slug!: string;
  @ApiProperty() name!: string;
  @ApiPropertyOptional({ nullable: true }) description!: string | null;
  @ApiProperty({ enum: ['development', 'test', 'preproduction', 'production'] }) type!: string;
  @ApiPropertyOptional({ nullable: true, example: 'production' }) parent!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) settings!: Record<string, unknown>;
  @ApiProperty() isActive!: boolean;
  @ApiProperty({ description: 'Changes need "confirm": true.' }) protected!: boolean;
  @ApiProperty({ description: 'Changes need an approval by someone else.' }) requiresApproval!: boolean;
  @ApiProperty() version!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class EnvironmentListModel {
  @ApiProperty({ type: [EnvironmentModel] }) items!: EnvironmentModel[];
}

export class ChainModel {
  @ApiProperty() environment!: string;
  @ApiProperty({ type: [EnvironmentModel], description: 'Nearest first.' }) chain!: EnvironmentModel[];
}

export class CloneModel {
  @ApiProperty({ type: EnvironmentModel }) environment!: EnvironmentModel;
  @ApiProperty() clonedFrom!: string;
  @ApiProperty({ type: [String], description: 'The flags whose override was copied.' }) overrides!: string[];
}

export class CompareModel {
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { flags: 3, different: 1 } }) summary!: Record<string, number>;
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Per flag: what each environment serves, and `differences` (field names).' })
  flags!: unknown[];
}

export class EventModel {
  @ApiProperty() id!: number;
  @ApiProperty({ example: 'feature-environment-enabled' }) type!: string;
  @ApiProperty({ example: 'token:ci-deploy' }) actor!: string;
  @ApiPropertyOptional({ nullable: true }) flagKey!: string | null;
  @ApiPropertyOptional({ nullable: true }) environment!: string | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true }) before!: unknown;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true }) after!: unknown;
  @ApiPropertyOptional({ nullable: true }) reason!: string | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true }) data!: unknown;
  @ApiProperty() createdAt!: string;
}

export class EventPageModel {
  @ApiProperty({ type: [EventModel] }) items!: EventModel[];
  @ApiPropertyOptional({ nullable: true, description: 'Pass as `before` (or `after`) for the next page; null: no more.' }) nextCursor!: number | null;
}

export class ApiTokenModel {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['admin', 'read-only'] }) type!: string;
  @ApiProperty({ type: [String], example: ['*'] }) environments!: string[];
  @ApiProperty({ example: 'ffa_AbCd' }) secretHint!: string;
  @ApiProperty({ enum: ['active', 'expired', 'revoked'] }) status!: string;
  @ApiProperty() createdBy!: string;
  @ApiPropertyOptional({ nullable: true, description: 'The id of the principal that created it (`bootstrap-token`, a user id, a token id).' }) createdById!: string | null;
  @ApiProperty({ description: 'The principal it acts as for the two-person rule: its own id, or (created by another token) that token\'s principal.' }) actsAs!: string;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true }) expiresAt!: string | null;
  @ApiPropertyOptional({ nullable: true }) revokedAt!: string | null;
  @ApiPropertyOptional({ nullable: true }) revokedBy!: string | null;
}

export class ApiTokenListModel {
  @ApiProperty({ type: [ApiTokenModel] }) items!: ApiTokenModel[];
}

export class CreatedApiTokenModel {
  @ApiProperty({ type: ApiTokenModel }) token!: ApiTokenModel;
  @ApiProperty({ example: 'ffa_3q2-…', description: 'The secret: shown in this answer only.' }) secret!: string;
  @ApiProperty() note!: string;
}

export class ClientKeyModel {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ example: 'production' }) environment!: string;
  @ApiProperty({ example: 'ffc_AbCd' }) secretHint!: string;
  @ApiProperty({ enum: ['active', 'revoked'] }) status!: string;
  @ApiProperty() createdBy!: string;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true }) revokedAt!: string | null;
  @ApiPropertyOptional({ nullable: true }) revokedBy!: string | null;
}

export class ClientKeyListModel {
  @ApiProperty({ type: [ClientKeyModel] }) items!: ClientKeyModel[];
}

export class CreatedClientKeyModel {
  @ApiProperty({ type: ClientKeyModel }) clientKey!: ClientKeyModel;
  @ApiProperty({ example: 'ffc_3q2-…', description: 'The secret: shown in this answer only.' }) secret!: string;
  @ApiProperty() note!: string;
}

export class ChangeRequestModel {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['pending', 'applied', 'rejected'] }) status!: string;
  @ApiProperty() title!: string;
  @ApiPropertyOptional({ nullable: true }) flagKey!: string | null;
  @ApiProperty({ type: [String] }) environments!: string[];
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true, description: 'What the change does (before/after).' }) preview!: unknown;
  @ApiPropertyOptional({ nullable: true }) reason!: string | null;
  @ApiProperty() createdBy!: string;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true }) decidedBy!: string | null;
  @ApiPropertyOptional({ nullable: true }) decidedAt!: string | null;
  @ApiPropertyOptional({ nullable: true }) decisionReason!: string | null;
  @ApiProperty() version!: number;
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'The storage writes approval applies.' }) writes!: unknown[];
}

export class ChangeRequestListModel {
  @ApiProperty({ type: [ChangeRequestModel] }) items!: ChangeRequestModel[];
}

export class PendingChangeModel {
  @ApiProperty({ enum: ['pending'] }) status!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ type: ChangeRequestModel }) changeRequest!: ChangeRequestModel;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input: `field` names it (unknown fields, wrong types, malformed keys or slugs…).',
  401: 'No valid `Authorization: Bearer <token>`.',
  403: 'The token is read-only, or not allowed in the environment (named in `environment`).',
  404: 'Unknown flag, environment, override, token or change request.',
  409: 'Conflict: stale version (If-Match), already exists, nothing to promote, environment cycle or in use.',
  413: 'Body larger than the admin body limit.',
  428: 'A protected environment: repeat with `"confirm": true`.',
};

/** Documents the error answers of a route (the admin exception filter's JSON). */
export function ApiAdminErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ErrorModel),
    ...[401, 403, ...statuses].map((status) => ApiResponse({ status, description: ERROR_DESCRIPTIONS[status], schema: { $ref: getSchemaPath(ErrorModel) } })),
  );
}

/** Documents the 202 answer of a write that a protected environment turned into a change request. */
export function ApiPendingChange(): MethodDecorator & ClassDecorator {
  return ApiResponse({ status: 202, description: 'The environment requires approval: a pending change request was created; nothing is applied yet.', type: PendingChangeModel });
}
