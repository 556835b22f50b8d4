import { API_TOKEN_TYPES, ApiTokenType, CHANGE_REQUEST_STATUSES, ChangeRequestStatus } from '../../storage/records';
import { MAX_INT32 } from '../http/admin-input-limits';
import { Field, NOT_BLANK_PATTERN } from './field.decorator';

/** `POST /api-tokens`. */
export class CreateApiTokenDto {
  @Field.string({
    maxLength: 255,
    pattern: NOT_BLANK_PATTERN,
    patternMessage: '$property must not be blank',
    example: 'ci-deploy',
  })
  name!: string;

  @Field.enum(API_TOKEN_TYPES, { example: 'admin' })
  type!: ApiTokenType;

  @Field.strings({
    minItems: 1,
    maxItems: 100,
    items: {
      maxLength: 64,
      pattern: /^(\*|[a-z0-9][a-z0-9_-]{0,63})$/,
      patternMessage: '$property must hold environment slugs or "*"',
    },
    example: ['staging'],
    description: 'Environment slugs, or ["*"] for every environment (not both: 400). Each must exist (404 otherwise).',
  })
  environments!: string[];

  @Field.string({
    presence: 'optional',
    maxLength: 40,
    format: 'date-time',
    description: 'When it stops working (RFC 3339, in the future: 400 otherwise).',
    example: '2030-01-01T00:00:00Z',
  })
  expiresAt?: string;
}

/** Approve or reject a change request. */
export class DecisionDto {
  @Field.string({ presence: 'nullable', maxLength: 2000, description: 'Why (audit log).' })
  reason?: string | null;

  @Field.integer({
    presence: 'optional',
    minimum: 1,
    maximum: MAX_INT32,
    description: "The request's version you reviewed (409 if it changed).",
  })
  version?: number;
}

/** Filters of `GET /change-requests`. */
export class ListChangeRequestsQueryDto {
  @Field.enum(CHANGE_REQUEST_STATUSES, { presence: 'optional' })
  status?: ChangeRequestStatus;

  @Field.slug({ presence: 'optional', description: 'Environment slug.' })
  environment?: string;

  @Field.flagKey({ presence: 'optional', description: 'Flag key.' })
  flag?: string;
}

/** Filters and page of `GET /events`. */
export class ListEventsQueryDto {
  @Field.flagKey({ presence: 'optional', description: 'Flag key.' })
  flag?: string;

  @Field.slug({ presence: 'optional', description: 'Environment slug.' })
  environment?: string;

  @Field.string({
    presence: 'optional',
    maxLength: 1299,
    pattern: /^[a-z][a-z0-9-]{0,63}(,[a-z][a-z0-9-]{0,63}){0,19}$/,
    patternMessage: '$property must be event types separated by commas',
    description: 'Event type, or up to 20 separated by commas.',
    example: 'flag-environment-enabled,flag-environment-disabled',
  })
  type?: string;

  @Field.string({ presence: 'optional', maxLength: 255, description: 'Who made the change (`token:ci-deploy`…).' })
  actor?: string;

  @Field.string({
    presence: 'optional',
    maxLength: 40,
    format: 'date-time',
    description: 'Events at or after this instant (RFC 3339).',
  })
  since?: string;

  @Field.string({
    presence: 'optional',
    maxLength: 40,
    format: 'date-time',
    description: 'Events before this instant (RFC 3339).',
  })
  until?: string;

  @Field.queryInteger({
    presence: 'optional',
    minimum: 0,
    maximum: MAX_INT32,
    description: 'Cursor: events older than this id (the `nextCursor` of the previous page).',
  })
  before?: number;

  @Field.queryInteger({
    presence: 'optional',
    minimum: 0,
    maximum: MAX_INT32,
    description: 'Events newer than this id (oldest first); not with `before` (400).',
  })
  after?: number;

  @Field.queryInteger({ presence: 'optional', minimum: 1, maximum: 1000, default: 100 })
  limit?: number;
}
