import type * as TypeOrm from 'typeorm';
import { loadOptionalPeer } from '../../optional-peers';
import {
  ApiToken,
  AuditEvent,
  ChangeRequest,
  ClientKey,
  Environment,
  Flag,
  FlagRule,
  Override,
  Segment,
} from '../records';

/**
 * The TypeORM mapping of the storage records: which table and column each record and field is. The records
 * stay plain classes (the memory and Redis backends store them too); this file gives them TypeORM's entity
 * metadata, the same that decorators on the classes would, when typeorm is installed — the first time the
 * entity list is read (`FEATURE_FLAG_ENTITIES`, the TypeORM backend), so that an app on another backend
 * never loads typeorm. Without typeorm it maps nothing.
 */

type Decorators = { [property: string]: PropertyDecorator[] };

/** Applies decorators as TypeScript does: each property's from last to first, then the class's from last to first. */
function mapEntity(target: Function, classDecorators: ClassDecorator[], properties: Decorators): void {
  for (const [property, decorators] of Object.entries(properties)) {
    for (const decorate of [...decorators].reverse()) decorate(target.prototype, property);
  }
  for (const decorate of [...classDecorators].reverse()) decorate(target);
}

function mapRecords(typeorm: typeof TypeOrm): void {
  const {
    Column,
    CreateDateColumn,
    Entity,
    Index,
    JoinColumn,
    ManyToOne,
    OneToMany,
    PrimaryColumn,
    PrimaryGeneratedColumn,
    UpdateDateColumn,
  } = typeorm;
  const id = (table: string) => [
    PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: `PK_${table}` }),
  ];
  const version = () => [Column({ type: 'int', default: 1 })];
  const createdAt = () => [CreateDateColumn({ name: 'created_at' })];
  const updatedAt = () => [UpdateDateColumn({ name: 'updated_at' })];
  const nullableText = () => [Column({ type: 'text', nullable: true })];
  const nullableJson = () => [Column({ type: 'simple-json', nullable: true })];
  const json = () => [Column({ type: 'simple-json' })];
  const name = () => [Column({ type: 'varchar', length: 255 })];
  const nullableName = (column: string) => [Column({ name: column, type: 'varchar', length: 255, nullable: true })];
  const instant = (column: string) => [Column({ name: column, type: Date, precision: 6, nullable: true })];

  mapEntity(Flag, [Entity({ name: 'feature_flags' })], {
    id: id('feature_flags'),
    key: [Index('UQ_feature_flags_key', { unique: true }), Column({ type: 'varchar', length: 128 })],
    name: name(),
    description: nullableText(),
    type: [Column({ type: 'varchar', length: 16, default: 'boolean' })],
    status: [Column({ type: 'varchar', length: 16, default: 'active' })],
    defaultEnabled: [Column({ name: 'default_enabled', type: 'boolean', default: false })],
    defaultValue: [Column({ name: 'default_value', type: 'simple-json', nullable: true })],
    tags: json(),
    metadata: json(),
    rules: [OneToMany(() => FlagRule, 'flag', { cascade: true, eager: true })],
    variants: nullableJson(),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  });

  mapEntity(FlagRule, [Entity({ name: 'feature_flag_rules' })], {
    id: id('feature_flag_rules'),
    flagId: [Index('IDX_feature_flag_rules_flag_id'), Column({ name: 'flag_id', type: 'varchar', length: 36 })],
    flag: [
      ManyToOne('Flag', 'rules', { onDelete: 'CASCADE' }),
      JoinColumn({ name: 'flag_id', foreignKeyConstraintName: 'FK_feature_flag_rules_flag_id' }),
    ],
    name: [Column({ type: 'varchar', length: 255, nullable: true })],
    priority: [Column({ type: 'int', default: 0 })],
    enabled: [Column({ type: 'boolean', default: true })],
    conditions: json(),
    serveEnabled: [Column({ name: 'serve_enabled', type: 'boolean', default: true })],
    serveValue: [Column({ name: 'serve_value', type: 'simple-json', nullable: true })],
    rolloutPercentage: [Column({ name: 'rollout_percentage', type: 'double precision', nullable: true })],
    // The rule's index in its flag's list, so that rules of equal priority come back in the order they were
    // written (evaluation breaks priority ties by that order). Written by the TypeORM backend, never selected.
    position: [Column({ type: 'int', default: 0, select: false })],
  });

  mapEntity(Environment, [Entity({ name: 'feature_flag_environments' })], {
    id: id('feature_flag_environments'),
    name: name(),
    slug: [Index('UQ_feature_flag_environments_slug', { unique: true }), Column({ type: 'varchar', length: 64 })],
    description: nullableText(),
    parentId: [
      Index('IDX_feature_flag_environments_parent_id'),
      Column({ name: 'parent_id', type: 'varchar', length: 36, nullable: true }),
    ],
    // A parent with children cannot be deleted (storage refuses first, the key backs it).
    parent: [
      ManyToOne(() => Environment, { onDelete: 'RESTRICT' }),
      JoinColumn({ name: 'parent_id', foreignKeyConstraintName: 'FK_feature_flag_environments_parent_id' }),
    ],
    type: [Column({ type: 'varchar', length: 32, default: 'development' })],
    settings: json(),
    isActive: [Column({ name: 'is_active', type: 'boolean', default: true })],
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  });

  // Overrides keep the table, index and key names of the time they were called environment flags, so
  // that existing databases need no schema change.
  mapEntity(
    Override,
    [
      Entity({ name: 'feature_flag_environment_flags' }),
      Index('UQ_feature_flag_environment_flags_env_flag', ['environmentId', 'flagId'], { unique: true }),
    ],
    {
      id: id('feature_flag_environment_flags'),
      environmentId: [Column({ name: 'environment_id', type: 'varchar', length: 36 })],
      environment: [
        ManyToOne(() => Environment, { onDelete: 'CASCADE' }),
        JoinColumn({
          name: 'environment_id',
          foreignKeyConstraintName: 'FK_feature_flag_environment_flags_environment_id',
        }),
      ],
      flagId: [
        Index('IDX_feature_flag_environment_flags_flag_id'),
        Column({ name: 'flag_id', type: 'varchar', length: 36 }),
      ],
      flag: [
        ManyToOne(() => Flag, { onDelete: 'CASCADE' }),
        JoinColumn({ name: 'flag_id', foreignKeyConstraintName: 'FK_feature_flag_environment_flags_flag_id' }),
      ],
      enabled: [Column({ type: 'boolean', nullable: true })],
      percentage: [Column({ type: 'double precision', nullable: true })],
      rules: nullableJson(),
      value: nullableJson(),
      variants: nullableJson(),
      reason: nullableText(),
      version: version(),
      createdAt: createdAt(),
      updatedAt: updatedAt(),
    },
  );

  mapEntity(Segment, [Entity({ name: 'feature_flag_segments' })], {
    id: id('feature_flag_segments'),
    key: [Index('UQ_feature_flag_segments_key', { unique: true }), Column({ type: 'varchar', length: 64 })],
    name: name(),
    description: nullableText(),
    conditions: json(),
    parentId: [Column({ name: 'parent_id', type: 'varchar', length: 36, nullable: true })],
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  });

  mapEntity(AuditEvent, [Entity({ name: 'feature_flag_events' })], {
    id: [PrimaryGeneratedColumn('increment', { type: 'int', primaryKeyConstraintName: 'PK_feature_flag_events' })],
    type: [Index('IDX_feature_flag_events_type'), Column({ type: 'varchar', length: 64 })],
    actor: name(),
    flagKey: [
      Index('IDX_feature_flag_events_flag_key'),
      Column({ name: 'flag_key', type: 'varchar', length: 128, nullable: true }),
    ],
    environment: [
      Index('IDX_feature_flag_events_environment'),
      Column({ type: 'varchar', length: 64, nullable: true }),
    ],
    before: nullableJson(),
    after: nullableJson(),
    reason: nullableText(),
    data: nullableJson(),
    createdAt: [Index('IDX_feature_flag_events_created_at'), CreateDateColumn({ name: 'created_at' })],
  });

  mapEntity(ApiToken, [Entity({ name: 'feature_flag_api_tokens' })], {
    id: id('feature_flag_api_tokens'),
    name: name(),
    type: [Column({ type: 'varchar', length: 16 })],
    environments: json(),
    secretHash: [
      Index('UQ_feature_flag_api_tokens_secret_hash', { unique: true }),
      Column({ name: 'secret_hash', type: 'varchar', length: 64 }),
    ],
    secretHint: [Column({ name: 'secret_hint', type: 'varchar', length: 16 })],
    createdBy: [Column({ name: 'created_by', type: 'varchar', length: 255 })],
    createdById: nullableName('created_by_id'),
    principalId: nullableName('principal_id'),
    createdAt: createdAt(),
    expiresAt: instant('expires_at'),
    revokedAt: instant('revoked_at'),
    revokedBy: nullableName('revoked_by'),
    version: version(),
  });

  mapEntity(ChangeRequest, [Entity({ name: 'feature_flag_change_requests' })], {
    id: id('feature_flag_change_requests'),
    status: [
      Index('IDX_feature_flag_change_requests_status'),
      Column({ type: 'varchar', length: 16, default: 'pending' }),
    ],
    title: name(),
    flagKey: [Column({ name: 'flag_key', type: 'varchar', length: 128, nullable: true })],
    environments: json(),
    writes: json(),
    preview: nullableJson(),
    reason: nullableText(),
    createdBy: [Column({ name: 'created_by', type: 'varchar', length: 255 })],
    createdById: nullableName('created_by_id'),
    createdAt: createdAt(),
    decidedBy: nullableName('decided_by'),
    decidedById: nullableName('decided_by_id'),
    decidedAt: instant('decided_at'),
    decisionReason: [Column({ name: 'decision_reason', type: 'text', nullable: true })],
    version: version(),
    updatedAt: updatedAt(),
  });

  mapEntity(ClientKey, [Entity({ name: 'feature_flag_client_keys' })], {
    id: id('feature_flag_client_keys'),
    name: name(),
    environment: [Index('IDX_feature_flag_client_keys_environment'), Column({ type: 'varchar', length: 64 })],
    secretHash: [
      Index('UQ_feature_flag_client_keys_secret_hash', { unique: true }),
      Column({ name: 'secret_hash', type: 'varchar', length: 64 }),
    ],
    secretHint: [Column({ name: 'secret_hint', type: 'varchar', length: 16 })],
    createdBy: [Column({ name: 'created_by', type: 'varchar', length: 255 })],
    createdAt: createdAt(),
    revokedAt: instant('revoked_at'),
    revokedBy: nullableName('revoked_by'),
    version: version(),
  });
}

const ENTITIES = [
  Flag,
  FlagRule,
  Environment,
  Override,
  Segment,
  AuditEvent,
  ApiToken,
  ChangeRequest,
  ClientKey,
] as const;

let mapped = false;

/** Gives the records their TypeORM metadata, once (when typeorm is installed). */
export function mapFeatureFlagEntities(): void {
  if (mapped) return;
  mapped = true;
  const typeorm = loadOptionalPeer<typeof TypeOrm>('typeorm');
  if (typeorm) mapRecords(typeorm);
}

/**
 * Every TypeORM entity of the module: add them to your own `TypeOrmModule` when sharing its connection.
 * Reading the list (spreading it, or TypeORM reading it) maps the records first.
 */
export const FEATURE_FLAG_ENTITIES: typeof ENTITIES = new Proxy(ENTITIES, {
  get(target, key, receiver) {
    mapFeatureFlagEntities();
    return Reflect.get(target, key, receiver) as unknown;
  },
  ownKeys(target) {
    mapFeatureFlagEntities();
    return Reflect.ownKeys(target);
  },
});
