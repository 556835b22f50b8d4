import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from './typeorm-decorators';

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

/** An admin API token (TypeORM entity `feature_flag_api_tokens`). */
@Entity({ name: 'feature_flag_api_tokens' })
export class ApiToken implements ApiTokenDefinition {
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'PK_feature_flag_api_tokens' })
  id!: string;

  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  type!: ApiTokenType;

  @Column({ type: 'simple-json' })
  environments!: string[];

  @Index('UQ_feature_flag_api_tokens_secret_hash', { unique: true })
  @Column({ name: 'secret_hash', type: 'varchar', length: 64 })
  secretHash!: string;

  @Column({ name: 'secret_hint', type: 'varchar', length: 16 })
  secretHint!: string;

  @Column({ name: 'created_by', type: 'varchar', length: 255 })
  createdBy!: string;

  @Column({ name: 'created_by_id', type: 'varchar', length: 255, nullable: true })
  createdById!: string | null;

  @Column({ name: 'principal_id', type: 'varchar', length: 255, nullable: true })
  principalId!: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: Date, precision: 6, nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'revoked_at', type: Date, precision: 6, nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_by', type: 'varchar', length: 255, nullable: true })
  revokedBy!: string | null;

  @Column({ type: 'int', default: 1 })
  version!: number;

  constructor(init?: Partial<ApiToken>) {
    if (init) Object.assign(this, init);
  }
}
