/**
 * The Redis key layout of RedisStorage, under a prefix (default `feature-flags:`). Records are JSON
 * strings; indexes map ids to the natural keys (slug, key) that name the records. The Lua scripts
 * (scripts.ts) use the same names.
 *
 * | key | type | holds |
 * |---|---|---|
 * | `flags:<environment slug>:<flag key>` | string | the flag's effective state in the environment: every resolved field and who supplied it (JSON, see `EffectiveFlagState`); kept current by every write that changes it |
 * | `override:<environment slug>:<flag key>` | string | an environment's own override of a flag (JSON; absent: it inherits everything) |
 * | `flag:<key>` | string | a base flag with its rules (JSON) |
 * | `environment:<slug>` | string | an environment (JSON) |
 * | `segment:<key>` | string | a segment (JSON) |
 * | `index:flags`, `index:environments`, `index:segments` | hash | id → key / slug |
 * | `index:overrides` | hash | override id → `[environmentId, flagId]` (JSON) |
 * | `environment-overrides:<environment id>` | set | ids of the flags the environment overrides |
 * | `flag-overrides:<flag id>` | set | ids of the environments that override the flag |
 * | `api-token:<id>`, `api-tokens` | string, list | a token (JSON, the secret's hash, never the secret); ids in creation order |
 * | `index:api-token-secrets` | hash | secret hash → token id |
 * | `client-key:<id>`, `client-keys` | string, list | a client key (JSON, the secret's hash, never the secret); ids in creation order |
 * | `index:client-key-secrets` | hash | secret hash → client key id |
 * | `change-request:<id>`, `change-requests` | string, list | a change request (JSON); ids in creation order |
 * | `events`, `events:seq` | stream, counter | the audit log: entry `0-<id>` holds event `<id>` (JSON) |
 * | `revision`, `epoch` | counter, string | incremented by every write of flag data; set once per store (revision()) |
 * | `layout` | string | `2`: overrides under `override:`, effective states under `flags:` (set by `init()`, which moves an older store's overrides) |
 */
export class RedisKeys {
  readonly environmentIndex: string;
  readonly flagIndex: string;
  readonly segmentIndex: string;
  readonly overrideIndex: string;
  readonly apiTokenSecrets: string;
  readonly apiTokens: string;
  readonly clientKeySecrets: string;
  readonly clientKeys: string;
  readonly changeRequests: string;
  readonly events: string;
  readonly eventSeq: string;
  readonly revision: string;
  readonly epoch: string;
  readonly layout: string;

  constructor(readonly prefix: string) {
    this.environmentIndex = `${prefix}index:environments`;
    this.flagIndex = `${prefix}index:flags`;
    this.segmentIndex = `${prefix}index:segments`;
    this.overrideIndex = `${prefix}index:overrides`;
    this.apiTokenSecrets = `${prefix}index:api-token-secrets`;
    this.apiTokens = `${prefix}api-tokens`;
    this.clientKeySecrets = `${prefix}index:client-key-secrets`;
    this.clientKeys = `${prefix}client-keys`;
    this.changeRequests = `${prefix}change-requests`;
    this.events = `${prefix}events`;
    this.eventSeq = `${prefix}events:seq`;
    this.revision = `${prefix}revision`;
    this.epoch = `${prefix}epoch`;
    this.layout = `${prefix}layout`;
  }

  /** An environment's own override of a flag. */
  override(environmentSlug: string, flagKey: string): string {
    return `${this.prefix}override:${environmentSlug}:${flagKey}`;
  }

  /** A flag's effective state in an environment: what the environment serves of it. */
  effective(environmentSlug: string, flagKey: string): string {
    return `${this.prefix}flags:${environmentSlug}:${flagKey}`;
  }

  flag(key: string): string {
    return `${this.prefix}flag:${key}`;
  }

  environment(slug: string): string {
    return `${this.prefix}environment:${slug}`;
  }

  segment(key: string): string {
    return `${this.prefix}segment:${key}`;
  }

  environmentOverrides(environmentId: string): string {
    return `${this.prefix}environment-overrides:${environmentId}`;
  }

  flagOverrides(flagId: string): string {
    return `${this.prefix}flag-overrides:${flagId}`;
  }

  apiToken(id: string): string {
    return `${this.prefix}api-token:${id}`;
  }

  clientKey(id: string): string {
    return `${this.prefix}client-key:${id}`;
  }

  changeRequest(id: string): string {
    return `${this.prefix}change-request:${id}`;
  }
}
