import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from './typeorm-decorators';

/**
 * A client key as stored (Unleash's environment-scoped client API key): never the secret, only its
 * SHA-256 hash. A key evaluates flags in its one environment, over OFREP.
 */
export interface ClientKeyDefinition {
  id: string;
  name: string;
  /** The environment (slug) the key evaluates in, whatever the request names. */
  environment: string;
  /** Hex SHA-256 of the secret. */
  secretHash: string;
  /** The first characters of the secret, to recognize it in a list (`ffc_AbCd`). */
  secretHint: string;
  createdBy: string;
  createdAt: Date;
  /** When it was revoked (refused from then on); null: not revoked. */
  revokedAt: Date | null;
  revokedBy: string | null;
  version: number;
}

/** An environment-scoped client key (TypeORM entity `feature_flag_client_keys`). */
@Entity({ name: 'feature_flag_client_keys' })
export class ClientKey implements ClientKeyDefinition {
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'PK_feature_flag_client_keys' })
  id!: string;

  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Index('IDX_feature_flag_client_keys_environment')
  @Column({ type: 'varchar', length: 64 })
  environment!: string;

  @Index('UQ_feature_flag_client_keys_secret_hash', { unique: true })
  @Column({ name: 'secret_hash', type: 'varchar', length: 64 })
  secretHash!: string;

  @Column({ name: 'secret_hint', type: 'varchar', length: 16 })
  secretHint!: string;

  @Column({ name: 'created_by', type: 'varchar', length: 255 })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: Date, precision: 6, nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_by', type: 'varchar', length: 255, nullable: true })
  revokedBy!: string | null;

  @Column({ type: 'int', default: 1 })
  version!: number;

  constructor(init?: Partial<ClientKey>) {
    if (init) Object.assign(this, init);
  }
}
