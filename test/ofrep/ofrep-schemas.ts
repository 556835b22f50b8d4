import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * JSON Schemas of the OFREP 0.3.0 responses, written from the protocol's OpenAPI document
 * (open-feature/protocol, service/openapi.yaml, `components.schemas`), to validate every answer of the
 * OFREP routes. Where the document cannot be satisfied as written, the fix follows its prose:
 * - `evaluationSuccess` is `oneOf` [boolean, string, integer, float, object, codeDefault] flags, but
 *   `codeDefaultFlag` (`{ type: object, properties: {} }`) matches every object and an integer is also a
 *   float, so no answer can match exactly one: here the value is absent ("use the code default") or one
 *   of those types.
 */

const metadata = {
  type: 'object',
  additionalProperties: { oneOf: [{ type: 'boolean' }, { type: 'string' }, { type: 'number' }] },
};

const key = { type: 'string' };
const errorDetails = { type: 'string' };

const evaluationSuccess = {
  type: 'object',
  required: ['key', 'reason'],
  properties: {
    key,
    reason: { type: 'string', enum: ['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'UNKNOWN'] },
    variant: { type: 'string' },
    metadata,
    value: true,
  },
  oneOf: [
    { required: ['value'], properties: { value: { type: 'boolean' } } },
    { required: ['value'], properties: { value: { type: 'string' } } },
    { required: ['value'], properties: { value: { type: 'number' } } },
    { required: ['value'], properties: { value: { type: 'object', additionalProperties: true } } },
    { not: { required: ['value'] } },
  ],
};

const evaluationFailure = {
  type: 'object',
  required: ['key', 'errorCode'],
  properties: {
    key,
    errorCode: { type: 'string', enum: ['PARSE_ERROR', 'TARGETING_KEY_MISSING', 'INVALID_CONTEXT', 'GENERAL'] },
    errorDetails,
    metadata,
  },
};

const flagNotFound = {
  type: 'object',
  required: ['key', 'errorCode'],
  properties: { key, errorCode: { type: 'string', enum: ['FLAG_NOT_FOUND'] }, errorDetails, metadata },
};

const eventStream = {
  type: 'object',
  required: ['type'],
  oneOf: [
    { required: ['url'], not: { required: ['endpoint'] } },
    { required: ['endpoint'], not: { required: ['url'] } },
  ],
  properties: {
    type: { type: 'string' },
    url: { type: 'string', format: 'uri' },
    endpoint: {
      type: 'object',
      required: ['requestUri'],
      properties: { origin: { type: 'string', format: 'uri' }, requestUri: { type: 'string', pattern: '^/' } },
    },
    inactivityDelaySec: { type: 'integer', minimum: 1 },
  },
};

const bulkEvaluationSuccess = {
  type: 'object',
  required: ['flags'],
  properties: {
    flags: { type: 'array', items: { oneOf: [evaluationSuccess, evaluationFailure] } },
    metadata,
    eventStreams: { type: 'array', items: eventStream },
  },
};

const bulkEvaluationFailure = {
  type: 'object',
  required: ['errorCode'],
  properties: { errorCode: { type: 'string' }, errorDetails },
};

const generalErrorResponse = { type: 'object', properties: { errorDetails } };

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
addFormats(ajv);

/** The schema of each documented answer, by operation and status. */
export const OFREP_RESPONSES = {
  evaluateFlag: {
    200: ajv.compile(evaluationSuccess),
    400: ajv.compile(evaluationFailure),
    404: ajv.compile(flagNotFound),
    500: ajv.compile(generalErrorResponse),
  },
  evaluateFlagsBulk: {
    200: ajv.compile(bulkEvaluationSuccess),
    400: ajv.compile(bulkEvaluationFailure),
    500: ajv.compile(generalErrorResponse),
  },
} as const;

/** The statuses each operation documents (401, 403, 429 and 304 carry no body schema). */
export const OFREP_STATUSES = {
  evaluateFlag: [200, 400, 401, 403, 404, 429, 500],
  evaluateFlagsBulk: [200, 304, 400, 401, 403, 429, 500],
} as const;

export type OfrepOperation = keyof typeof OFREP_RESPONSES;

/**
 * Checks an answer against the specification: a documented status, a JSON body that matches the status's
 * schema when it has one, an ETag on a bulk 200, no body on a 304. Throws with the schema's errors.
 */
export function assertOfrepResponse(
  operation: OfrepOperation,
  status: number,
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
  text?: string,
): void {
  if (!(OFREP_STATUSES[operation] as readonly number[]).includes(status))
    throw new Error(`${operation}: status ${status} is not in the specification`);
  if (operation === 'evaluateFlagsBulk' && (status === 200 || status === 304) && typeof headers.etag !== 'string')
    throw new Error(`${operation}: a ${status} without an ETag`);
  if (status === 304) {
    if (text) throw new Error(`${operation}: a 304 with a body`);
    return;
  }
  const validate = (OFREP_RESPONSES[operation] as Record<number, ReturnType<typeof ajv.compile>>)[status];
  if (validate === undefined) return;
  if (!String(headers['content-type'] ?? '').startsWith('application/json'))
    throw new Error(`${operation}: a ${status} that is not application/json`);
  if (!validate(body))
    throw new Error(
      `${operation} ${status}: ${JSON.stringify(body)} does not match the specification: ${ajv.errorsText(validate.errors)}`,
    );
}
