import { ENVIRONMENT_TYPES, EnvironmentType } from '../../core/types';
import { MAX_INT32 } from '../http/admin-input-limits';
import { swagger, validator } from '../optional-packages';
import { IsSlug, Nullable, Optional, QueryBoolean } from './dto-decorators';
import { WriteOptionsDto } from './flag.dto';

const { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsString, MaxLength, Max, Min } = validator;
const { ApiProperty, ApiPropertyOptional } = swagger;

const SETTINGS_DESCRIPTION =
  'Free-form settings. Known keys: requireApproval (changes need a second person), protected (changes need confirmation), defaultEnabled (environment default of `enabled`).';

/** `POST /environments`. */
export class CreateEnvironmentDto {
  @ApiProperty({ example: 'qa' })
  @IsSlug()
  slug!: string;

  @ApiProperty({ example: 'QA' })
  @IsString()
  @MaxLength(255)
  name!: string;

  @ApiPropertyOptional({ nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(10_000)
  description?: string | null;

  @ApiPropertyOptional({ nullable: true, description: 'Slug of the environment it inherits from.', example: 'staging' })
  @Nullable()
  @IsSlug()
  parent?: string | null;

  @ApiPropertyOptional({ enum: ENVIRONMENT_TYPES, default: 'development' })
  @Optional()
  @IsIn(ENVIRONMENT_TYPES as unknown as string[])
  type?: EnvironmentType;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: SETTINGS_DESCRIPTION })
  @Optional()
  @IsObject()
  settings?: Record<string, unknown>;

  @ApiPropertyOptional({ default: true })
  @Optional()
  @IsBoolean()
  isActive?: boolean;

  @ApiPropertyOptional({ description: 'Why (audit log).' })
  @Nullable()
  @IsString()
  @MaxLength(2000)
  reason?: string | null;
}

/** `PATCH /environments/:slug`. */
export class UpdateEnvironmentDto extends WriteOptionsDto {
  @ApiPropertyOptional()
  @Optional()
  @IsString()
  @MaxLength(255)
  name?: string;

  @ApiPropertyOptional({ nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(10_000)
  description?: string | null;

  @ApiPropertyOptional({ nullable: true, description: 'New parent slug; null makes it a root.' })
  @Nullable()
  @IsSlug()
  parent?: string | null;

  @ApiPropertyOptional({ enum: ENVIRONMENT_TYPES })
  @Optional()
  @IsIn(ENVIRONMENT_TYPES as unknown as string[])
  type?: EnvironmentType;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: `${SETTINGS_DESCRIPTION} Replaces the settings as a whole.` })
  @Optional()
  @IsObject()
  settings?: Record<string, unknown>;

  @ApiPropertyOptional()
  @Optional()
  @IsBoolean()
  isActive?: boolean;

  @ApiPropertyOptional({ description: 'The version this change is based on (or send If-Match).' })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(MAX_INT32)
  version?: number;
}

/** `POST /environments/:slug/clone` (Unleash's cloning): a new environment with a copy of every override. */
export class CloneEnvironmentDto {
  @ApiProperty({ example: 'staging-eu' })
  @IsSlug()
  slug!: string;

  @ApiProperty({ example: 'Staging EU' })
  @IsString()
  @MaxLength(255)
  name!: string;

  @ApiPropertyOptional({ nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(10_000)
  description?: string | null;

  @ApiPropertyOptional({ enum: ENVIRONMENT_TYPES, description: "Default: the source's type." })
  @Optional()
  @IsIn(ENVIRONMENT_TYPES as unknown as string[])
  type?: EnvironmentType;

  @ApiPropertyOptional({ nullable: true, description: "Default: the source's parent." })
  @Nullable()
  @IsSlug()
  parent?: string | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: "Default: the source's settings." })
  @Optional()
  @IsObject()
  settings?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Why (audit log).' })
  @Nullable()
  @IsString()
  @MaxLength(2000)
  reason?: string | null;
}

/** `POST /environments/:slug/promote`: promotes every override of the environment to `to`. */
export class PromoteEnvironmentDto extends WriteOptionsDto {
  @ApiProperty({ example: 'production' })
  @IsSlug()
  to!: string;

  @ApiPropertyOptional({ description: 'Only compute what would change (do this first).' })
  @Optional()
  @IsBoolean()
  dryRun?: boolean;

  @ApiPropertyOptional({ type: [String], description: 'Only these flags (each must have an override in the source).' })
  @Optional()
  @IsArray()
  @ArrayMaxSize(500)
  @IsString({ each: true })
  flags?: string[];
}

/** `?onlyDifferences=` of the comparison. */
export class CompareQueryDto {
  @ApiPropertyOptional({ description: 'Only list flags that differ.' })
  @Optional()
  @QueryBoolean()
  onlyDifferences?: boolean;
}
