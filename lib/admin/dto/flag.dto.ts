import { FLAG_STATUSES, FLAG_TYPES, FlagStatus, FlagType } from '../../core/types';
import { MAX_INT32 } from '../http/admin-input-limits';
import { swagger, transformer, validator } from '../optional-packages';
import { IsFlagKey, IsSlug, Nullable, Optional, QueryBoolean, QueryInteger } from './dto-decorators';
import { RuleDto, VariantDto } from './rule.dto';

const { Allow, ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsObject, IsString, Max, MaxLength, Min, ValidateNested } = validator;
const { Type } = transformer;
const { ApiProperty, ApiPropertyOptional } = swagger;

/** Fields every write route takes: why, and the confirmation protected environments ask for. */
export class WriteOptionsDto {
  @ApiPropertyOptional({ description: 'Why: kept in the audit log (and, for an override, with the override).', example: 'QA sign-off for release 42' })
  @Nullable()
  @IsString()
  @MaxLength(2000)
  reason?: string | null;

  @ApiPropertyOptional({ description: 'Confirms a change to a protected environment (type production, or settings.protected / requireApproval).' })
  @Optional()
  @IsBoolean()
  confirm?: boolean;
}

/** `POST /feature-flags`: a new flag (its base definition). */
export class CreateFlagDto extends WriteOptionsDto {
  @ApiProperty({ example: 'new-checkout' })
  @IsFlagKey()
  key!: string;

  @ApiPropertyOptional({ example: 'New checkout' })
  @Optional()
  @IsString()
  @MaxLength(255)
  name?: string;

  @ApiPropertyOptional({ nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(10_000)
  description?: string | null;

  @ApiPropertyOptional({ enum: FLAG_TYPES, default: 'boolean' })
  @Optional()
  @IsIn(FLAG_TYPES as unknown as string[])
  type?: FlagType;

  @ApiPropertyOptional({ default: false, description: 'Whether the flag is on where no environment decides.' })
  @Optional()
  @IsBoolean()
  defaultEnabled?: boolean;

  @ApiPropertyOptional({ nullable: true, description: 'The value served when on (of the flag type).' })
  @Allow()
  defaultValue?: unknown;

  @ApiPropertyOptional({ type: [String], example: ['checkout'] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  tags?: string[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @Optional()
  @IsObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [RuleDto] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => RuleDto)
  rules?: RuleDto[];

  @ApiPropertyOptional({ type: [VariantDto], nullable: true })
  @Nullable()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => VariantDto)
  variants?: VariantDto[] | null;
}

/**
 * `PATCH /feature-flags/:key`. With `environment`, changes that environment's override (null: the field
 * inherits again); without, changes the base flag (`enabled` and `value` are then its defaults).
 */
export class PatchFlagDto extends WriteOptionsDto {
  @ApiPropertyOptional({ description: 'The environment whose override changes; absent: the base flag.', example: 'staging' })
  @Nullable()
  @IsSlug()
  environment?: string | null;

  @ApiPropertyOptional({ nullable: true, description: 'On or off (null: inherit).' })
  @Nullable()
  @IsBoolean()
  enabled?: boolean | null;

  @ApiPropertyOptional({ nullable: true, minimum: 0, maximum: 100, description: 'Rollout share of targeting keys (environments only).' })
  @Nullable()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(100)
  percentage?: number | null;

  @ApiPropertyOptional({ type: [RuleDto], nullable: true })
  @Nullable()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => RuleDto)
  rules?: RuleDto[] | null;

  @ApiPropertyOptional({ nullable: true, description: 'The value served when on (of the flag type).' })
  @Allow()
  value?: unknown;

  @ApiPropertyOptional({ type: [VariantDto], nullable: true })
  @Nullable()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => VariantDto)
  variants?: VariantDto[] | null;

  @ApiPropertyOptional({ description: 'Base flag only.' })
  @Optional()
  @IsString()
  @MaxLength(255)
  name?: string;

  @ApiPropertyOptional({ nullable: true, description: 'Base flag only.' })
  @Nullable()
  @IsString()
  @MaxLength(10_000)
  description?: string | null;

  @ApiPropertyOptional({ type: [String], description: 'Base flag only.' })
  @Optional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  tags?: string[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Base flag only.' })
  @Optional()
  @IsObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'The version this change is based on (or send If-Match); a stale one is refused with 409.' })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(MAX_INT32)
  version?: number;
}

/** `POST /feature-flags/:key/promote`: copies `from`'s override to `to` (seed 001). */
export class PromoteFlagDto extends WriteOptionsDto {
  @ApiProperty({ example: 'staging' })
  @IsSlug()
  from!: string;

  @ApiProperty({ example: 'production' })
  @IsSlug()
  to!: string;

  @ApiPropertyOptional({ description: 'Only compute what would change.' })
  @Optional()
  @IsBoolean()
  dryRun?: boolean;
}

/** Archive or restore a flag. */
export class FlagActionDto extends WriteOptionsDto {}

/** `?env=` of `GET /feature-flags/:key`. */
export class FlagQueryDto {
  @ApiPropertyOptional({ description: 'Resolve the flag in this environment.', example: 'staging' })
  @Optional()
  @IsSlug()
  env?: string;
}

/** `?confirm=true` of DELETE routes. */
export class ConfirmQueryDto {
  @ApiPropertyOptional({ description: 'Confirms a change to a protected environment.' })
  @Optional()
  @QueryBoolean()
  confirm?: boolean;

  @ApiPropertyOptional({ description: 'Why (audit log).' })
  @Optional()
  @IsString()
  @MaxLength(2000)
  reason?: string;
}

/** Filters and page of `GET /feature-flags`. */
export class ListFlagsQueryDto {
  @ApiPropertyOptional({ enum: [...FLAG_STATUSES, 'all'], description: 'Default: active and inactive flags (not archived).' })
  @Optional()
  @IsIn([...FLAG_STATUSES, 'all'])
  status?: FlagStatus | 'all';

  @ApiPropertyOptional()
  @Optional()
  @IsString()
  @MaxLength(64)
  tag?: string;

  @ApiPropertyOptional({ description: 'Case-insensitive part of the key or name.' })
  @Optional()
  @IsString()
  @MaxLength(128)
  search?: string;

  @ApiPropertyOptional({ description: 'Also resolve each flag in this environment.' })
  @Optional()
  @IsSlug()
  env?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @Optional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @Optional()
  @QueryInteger()
  @IsInt()
  @Min(0)
  @Max(MAX_INT32)
  offset?: number;
}
