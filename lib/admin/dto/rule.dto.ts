import { OPERATORS, Operator } from '../../core/types';
import { MAX_INT32, MIN_INT32 } from '../http/admin-input-limits';
import { swagger, transformer, validator } from '../optional-packages';
import { Nullable, Optional } from './dto-decorators';

const { Allow, ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsString, Max, MaxLength, Min, ValidateNested } = validator;
const { Type } = transformer;
const { ApiProperty, ApiPropertyOptional } = swagger;

/** One test on the evaluation context. */
export class ConditionDto {
  @ApiProperty({ example: 'country', description: 'The context attribute to test (`targetingKey`, `country`, `plan`…).' })
  @IsString()
  @MaxLength(128)
  attribute!: string;

  @ApiProperty({ enum: OPERATORS, example: 'in' })
  @IsIn(OPERATORS as unknown as string[], { message: `$property must be one of: ${OPERATORS.join(', ')}` })
  operator!: Operator;

  @ApiPropertyOptional({ description: 'What to compare with (a list for `in`, a segment key for `in_segment`…).', example: ['SE', 'NO', 'DK'] })
  @Allow()
  value?: unknown;

  @ApiPropertyOptional({ description: 'Inverts the result (a missing attribute stays false).' })
  @Optional()
  @IsBoolean()
  negate?: boolean;

  @ApiPropertyOptional()
  @Optional()
  @IsBoolean()
  caseInsensitive?: boolean;
}

/** A targeting rule: the first enabled rule (by ascending priority) whose conditions all hold decides. */
export class RuleDto {
  @ApiPropertyOptional({ nullable: true, example: 'Nordics' })
  @Nullable()
  @IsString()
  @MaxLength(255)
  name?: string | null;

  @ApiProperty({ example: 0 })
  @IsInt()
  @Min(MIN_INT32)
  @Max(MAX_INT32)
  priority!: number;

  @ApiPropertyOptional({ default: true })
  @Optional()
  @IsBoolean()
  enabled?: boolean;

  @ApiProperty({ type: [ConditionDto] })
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => ConditionDto)
  conditions!: ConditionDto[];

  @ApiProperty({ description: 'Whether a match turns the flag on (true) or off (false).' })
  @IsBoolean()
  serveEnabled!: boolean;

  @ApiPropertyOptional({ nullable: true, description: 'The value served on a match (of the flag type).' })
  @Allow()
  serveValue?: unknown;

  @ApiPropertyOptional({ nullable: true, minimum: 0, maximum: 100, description: 'Share of matching targeting keys the rule applies to.' })
  @Nullable()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(100)
  rolloutPercentage?: number | null;
}

/** A weighted variant of a flag's value. */
export class VariantDto {
  @ApiProperty({ example: 'blue' })
  @IsString()
  @MaxLength(128)
  key!: string;

  @ApiProperty({ description: 'The value served (of the flag type).' })
  @Allow()
  value!: unknown;

  @ApiProperty({ minimum: 0, example: 50 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  weight!: number;
}
