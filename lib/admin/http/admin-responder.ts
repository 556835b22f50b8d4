import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/** What an admin route answers: a status (200, 201, or 202 for a pending change), a body, and its ETag. */
export interface AdminResponse {
  status: number;
  body: unknown;
  /** The version a conditional write (If-Match) would carry. */
  etag?: string;
}

/**
 * Sends admin responses through the HTTP adapter (Express or Fastify), so that a route can pick its
 * status at run time (202 when a protected environment turned the change into a change request).
 */
@Injectable()
export class AdminResponder {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  send(response: unknown, r: AdminResponse): void {
    const adapter = this.adapterHost.httpAdapter;
    if (r.etag !== undefined) adapter.setHeader(response, 'ETag', r.etag);
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    adapter.reply(response, r.status === 204 ? undefined : r.body, r.status);
  }
}
