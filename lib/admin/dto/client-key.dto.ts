import { swagger, validator } from '../optional-packages';
import { IsSlug } from './dto-decorators';

const { IsString, Matches, MaxLength } = validator;
const { ApiProperty } = swagger;

/** `POST /client-keys`. */
export class CreateClientKeyDto {
  @ApiProperty({ example: 'web-frontend' })
  @IsString()
  @MaxLength(255)
  @Matches(/\S/, { message: '$property must not be blank' })
  name!: string;

  @ApiProperty({ example: 'production', description: 'The one environment the key evaluates in (an environment slug).' })
  @IsString()
  @IsSlug()
  environment!: string;
}
