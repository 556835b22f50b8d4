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

/** An environment-scoped client key (stored as `feature_flag_client_keys` in SQL). */
export class ClientKey implements ClientKeyDefinition {
  id!: string;
  name!: string;
  environment!: string;
  secretHash!: string;
  secretHint!: string;
  createdBy!: string;
  createdAt!: Date;
  revokedAt!: Date | null;
  revokedBy!: string | null;
  version!: number;

  constructor(init?: Partial<ClientKey>) {
    if (init) Object.assign(this, init);
  }
}
