/** The body of an OFREP error answer: a flag's evaluation failure, or a general error. */
export type OfrepErrorBody = { key?: string; errorCode?: string; errorDetails: string };

/**
 * An OFREP request refused with a status and an OFREP body: 400 (`INVALID_CONTEXT`, `PARSE_ERROR`…),
 * 401 and 403 (no or bad client key), 404 (`FLAG_NOT_FOUND`), 503 (the store holding the keys is down).
 */
export class OfrepHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: OfrepErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.errorDetails);
    this.name = 'OfrepHttpError';
  }
}
