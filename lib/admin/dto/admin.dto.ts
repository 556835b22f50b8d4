import { API_TOKEN_TYPES, ApiTokenType, CHANGE_REQUEST_STATUSES, ChangeRequestStatus } from '../../storage/records';
import { MAX_INT32 } from '../http/admin-input-limits';
import { swagger, validator } from '../optional-packages';
import { IsFlagKey, IsSlug, Nullable, Optional, QueryInteger } from './dto-decorators';

const { ArrayMaxSize, ArrayNotEmpty, IsArray, IsIn, IsInt, IsISO8601, IsString, Matches, Max, MaxLength, Min } = validator;
const { ApiProperty, ApiPropertyOptional } = swagger;

/** `POST /api-tokens`. */
export class CreateApiTokenDto {
  @ApiProperty({ example: 'ci-deploy' })
  @IsString()
  @MaxLength(255)
  @Matches(/\S/, { message: '$property must not be blank' })
  name!: string;

  @ApiProperty({ enum: API_TOKEN_TYPES, example: 'admin' })
  @IsIn(API_TOKEN_TYPES as unknown as string[])
  type!: ApiTokenType;

  @ApiProperty({ type: [String], example: ['staging'], description: 'Environment slugs, or ["*"] for every environment.' })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(100)
  @Matches(/^(\*|[a-z0-9][a-z0-9_-]{0,63})$/, { each: true, message: '$property must hold environment slugs or "*"' })
  environments!: string[];

  @ApiPropertyOptional({ description: 'When it stops working (ISO 8601, in the future).', example: '2030-01-01T00:00:00Z' })
  @Optional()
  @IsISO8601({ strict: true })
  expiresAt?: string;
}

/** Approve or reject a change request. */
export class DecisionDto {
  @ApiPropertyOptional({ description: 'Why (audit log).' })
  @Nullable()
  @IsString()
  @MaxLength(2000)
  reason?: string | null;

  @ApiPropertyOptional({ description: "The request's version you reviewed (409 if it changed)." })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(MAX_INT32)
  version?: number;
}

/** Filters of `GET /change-requests`. */
export class ListChangeRequestsQueryDto {
  @ApiPropertyOptional({ enum: CHANGE_REQUEST_STATUSES })
  @Optional()
  @IsIn(CHANGE_REQUEST_STATUSES as unknown as string[])
  status?: ChangeRequestStatus;

  @ApiPropertyOptional()
  @Optional()
  @IsSlug()
  environment?: string;

  @ApiPropertyOptional()
  @Optional()
  @IsFlagKey()
  flag?: string;
}

/** Filters and page of `GET /events`. */
export class ListEventsQueryDto {
  @ApiPropertyOptional({ description: 'Flag key.' })
  @Optional()
  @IsFlagKey()
  flag?: string;

  @ApiPropertyOptional({ description: 'Environment slug.' })
  @Optional()
  @IsSlug()
  environment?: string;

  @ApiPropertyOptional({ description: 'Event type, or several separated by commas.', example: 'feature-environment-enabled,feature-environment-disabled' })
  @Optional()
  @Matches(/^[a-z][a-z0-9-]{0,63}(,[a-z][a-z0-9-]{0,63}){0,19}$/, { message: '$property must be event types separated by commas' })
  type?: string;

  @ApiPropertyOptional()
  @Optional()
  @IsString()
  @MaxLength(255)
  actor?: string;

  @ApiPropertyOptional({ description: 'Events at or after this instant (ISO 8601).' })
  @Optional()
  @IsISO8601()
  since?: string;

  @ApiPropertyOptional({ description: 'Events before this instant (ISO 8601).' })
  @Optional()
  @IsISO8601()
  until?: string;

  @ApiPropertyOptional({ description: 'Cursor: events older than this id (the `nextCursor` of the previous page).' })
  @Optional()
  @QueryInteger()
  @IsInt()
  @Min(0)
  @Max(MAX_INT32)
  before?: number;

  @ApiPropertyOptional({ description: 'Events newer than this id (oldest first).' })
  @Optional()
  @QueryInteger()
  @IsInt()
  @Min(0)
  @Max(MAX_INT32)
  after?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @Optional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}
