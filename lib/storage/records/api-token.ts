export const API_TOKEN_TYPES = ['admin', 'read-only'] as const;
/** What a token may do: `admin` reads and writes, `read-only` only reads. */
export type ApiTokenType = (typeof API_TOKEN_TYPES)[number];

/** An admin API token as stored: never the secret, only its SHA-256 hash (see `ApiToken`). */
export interface ApiTokenDefinition {
  id: string;
  name: string;
  type: ApiTokenType;
  /** The environments (slugs) the token may read and change; `['*']` for all of them. */
  environments: string[];
  /** Hex SHA-256 of the secret. */
  secretHash: string;
  /** The first characters of the secret, to recognize it in a list (`ffa_AbCd`). */
  secretHint: string;
  createdBy: string;
  /** The id of the principal that created it (`bootstrap-token`, a user's id, another token's id); null for tokens older than this field. */
  createdById: string | null;
  /**
   * The principal it acts as for the two-person rule, when not itself: a token created by another API token
   * acts as that token's principal (transitively). Null: a principal of its own (created by the bootstrap
   * token or by an `authenticate` identity).
   */
  principalId: string | null;
  createdAt: Date;
  /** After this instant the token is refused; null: never expires. */
  expiresAt: Date | null;
  /** When it was revoked (refused from then on); null: not revoked. */
  revokedAt: Date | null;
  revokedBy: string | null;
  version: number;
}

/** An admin API token (stored as `feature_flag_api_tokens` in SQL). */
export class ApiToken implements ApiTokenDefinition {
  id!: string;
  name!: string;
  type!: ApiTokenType;
  environments!: string[];
  secretHash!: string;
  secretHint!: string;
  createdBy!: string;
  createdById!: string | null;
  principalId!: string | null;
  createdAt!: Date;
  expiresAt!: Date | null;
  revokedAt!: Date | null;
  revokedBy!: string | null;
  version!: number;

  constructor(init?: Partial<ApiToken>) {
    if (init) Object.assign(this, init);
  }
}
