import { Field, NOT_BLANK_PATTERN } from './field.decorator';

/** `POST /client-keys`. */
export class CreateClientKeyDto {
  @Field.string({
    maxLength: 255,
    pattern: NOT_BLANK_PATTERN,
    patternMessage: '$property must not be blank',
    example: 'web-frontend',
  })
  name!: string;

  @Field.slug({
    example: 'production',
    description: 'The one environment the key evaluates in (it must exist: 404 otherwise).',
  })
  environment!: string;
}
