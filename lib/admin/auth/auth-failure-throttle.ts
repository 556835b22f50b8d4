import { HttpException, HttpStatus, OnApplicationShutdown } from '@nestjs/common';
import { FeatureFlagsConfigurationError } from '../../core/errors';

/**
 * Where failures are counted: @nestjs/throttler's `ThrottlerStorage`, declared by its shape so that the
 * published types do not name the package (any ThrottlerStorage fits).
 */
export interface AuthThrottleStorage {
  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<{ totalHits: number; timeToExpire: number; isBlocked: boolean; timeToBlockExpire: number }>;
}

/**
 * Failed authentication, throttled per client: the admin API (a wrong, revoked or expired token, or none)
 * and OFREP (a wrong or revoked client key) count each refused attempt in @nestjs/throttler's storage.
 * Over `limit` failures within `ttl`, the client is answered 429 with `Retry-After` until the block ends —
 * even with a valid credential, or the answer would still tell a guess that was right. Requests that
 * authenticate are never counted; other clients are unaffected.
 */
export interface AuthThrottleOptions {
  /** Failed attempts a client may make within `ttl`. Default 10. */
  limit?: number;
  /** The window failures are counted in, in milliseconds. Default 60,000. */
  ttl?: number;
  /** How long a client over the limit is refused, in milliseconds. Default: `ttl`. */
  blockDuration?: number;
  /**
   * Who the client is. Default: the request's IP (`request.ip`: behind a proxy, set Express's `trust proxy`
   * or Fastify's `trustProxy` so that it is the caller's, not the proxy's).
   */
  tracker?: (request: unknown) => string;
  /**
   * Where failures are counted. Default: @nestjs/throttler's in-memory `ThrottlerStorageService` (per
   * process); pass a shared `ThrottlerStorage` (say, on Redis) to count across instances.
   */
  storage?: AuthThrottleStorage;
}

/** The defaults: 10 failures per minute, then a minute's block. */
export const DEFAULT_AUTH_THROTTLE = Object.freeze({ limit: 10, ttl: 60_000 });

/** The throttler name failures are counted under in the storage. */
const THROTTLER_NAME = 'feature-flags-auth';

/** 429: too many failed authentication attempts from this client. */
export class AuthThrottledException extends HttpException {
  constructor(readonly retryAfter: number) {
    super(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        code: 'TOO_MANY_AUTH_FAILURES',
        message: `Too many failed authentication attempts from this client: retry in ${retryAfter} s.`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

function fail(option: string, problem: string): never {
  throw new FeatureFlagsConfigurationError(`authThrottle.${option}`, problem);
}

/** `authThrottle` with its defaults. */
export interface ResolvedAuthThrottle {
  limit: number;
  ttl: number;
  blockDuration: number;
  tracker: (request: unknown) => string;
  storage?: AuthThrottleStorage;
}

/** Checks `authThrottle`; undefined means the defaults, false turns throttling off. */
export function resolveAuthThrottle(options: AuthThrottleOptions | false | undefined): ResolvedAuthThrottle | false {
  if (options === false) return false;
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new FeatureFlagsConfigurationError(
      'authThrottle',
      'must be { limit, ttl, blockDuration?, tracker?, storage? } or false',
    );
  }
  const o = options ?? {};
  const limit = o.limit ?? DEFAULT_AUTH_THROTTLE.limit;
  const ttl = o.ttl ?? DEFAULT_AUTH_THROTTLE.ttl;
  const blockDuration = o.blockDuration ?? ttl;
  if (!Number.isInteger(limit) || limit < 1)
    fail('limit', `must be a positive integer, got ${JSON.stringify(o.limit)}`);
  if (!Number.isInteger(ttl) || ttl < 1)
    fail('ttl', `must be a positive integer number of milliseconds, got ${JSON.stringify(o.ttl)}`);
  if (!Number.isInteger(blockDuration) || blockDuration < 1)
    fail('blockDuration', `must be a positive integer number of milliseconds, got ${JSON.stringify(o.blockDuration)}`);
  if (o.tracker !== undefined && typeof o.tracker !== 'function')
    fail('tracker', 'must be a function (request) => string');
  if (o.storage !== undefined && typeof (o.storage as Partial<AuthThrottleStorage> | null)?.increment !== 'function')
    fail('storage', 'must be a ThrottlerStorage (with increment())');
  return { limit, ttl, blockDuration, tracker: o.tracker ?? clientIp, storage: o.storage };
}

/** The request's IP (Express and Fastify both set `ip`). */
function clientIp(request: unknown): string {
  const r = request as { ip?: unknown; socket?: { remoteAddress?: unknown } } | null;
  const ip =
    typeof r?.ip === 'string' ? r.ip : typeof r?.socket?.remoteAddress === 'string' ? r.socket.remoteAddress : '';
  return ip || 'unknown';
}

/** Most clients remembered as blocked at once (expired blocks are dropped first). */
const MAX_BLOCKED = 100_000;

/**
 * Counts failed authentication per client (see AuthThrottleOptions). `assertAllowed` before checking a
 * credential, `recordFailure` when it was refused: both throw AuthThrottledException when over the limit.
 */
export class AuthFailureThrottle implements OnApplicationShutdown {
  private readonly storage: AuthThrottleStorage;
  private readonly ownStorage: (AuthThrottleStorage & OnApplicationShutdown) | undefined;
  /** When each blocked client may try again (ms since the epoch). */
  private readonly blockedUntil = new Map<string, number>();

  constructor(private readonly options: ResolvedAuthThrottle) {
    if (options.storage) {
      this.storage = options.storage;
    } else {
      // Loaded here, when a module that authenticates is used: requiring the library does not load it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { ThrottlerStorageService } = require('@nestjs/throttler') as typeof import('@nestjs/throttler');
      this.storage = this.ownStorage = new ThrottlerStorageService();
    }
  }

  /** Who the client of a request is (the `tracker` option). */
  clientOf(request: unknown): string {
    const client = this.options.tracker(request);
    return typeof client === 'string' && client !== '' ? client : 'unknown';
  }

  /** Refuses a client that is blocked, before its credential is looked at. */
  assertAllowed(client: string): void {
    const until = this.blockedUntil.get(client);
    if (until === undefined) return;
    const left = until - Date.now();
    if (left > 0) throw new AuthThrottledException(Math.ceil(left / 1000));
    this.blockedUntil.delete(client);
  }

  /** Counts a refused attempt; throws AuthThrottledException when it puts the client over the limit. */
  async recordFailure(client: string): Promise<void> {
    const { limit, ttl, blockDuration } = this.options;
    const record = await this.storage.increment(
      `${THROTTLER_NAME}:${client}`,
      ttl,
      limit,
      blockDuration,
      THROTTLER_NAME,
    );
    if (!record.isBlocked) return;
    const retryAfter = Math.max(1, record.timeToBlockExpire);
    this.remember(client, Date.now() + retryAfter * 1000);
    throw new AuthThrottledException(retryAfter);
  }

  onApplicationShutdown(): void {
    this.ownStorage?.onApplicationShutdown();
    this.blockedUntil.clear();
  }

  private remember(client: string, until: number): void {
    if (this.blockedUntil.size >= MAX_BLOCKED) {
      const now = Date.now();
      for (const [c, u] of this.blockedUntil) if (u <= now) this.blockedUntil.delete(c);
      if (this.blockedUntil.size >= MAX_BLOCKED)
        this.blockedUntil.delete(this.blockedUntil.keys().next().value as string);
    }
    this.blockedUntil.set(client, until);
  }
}
