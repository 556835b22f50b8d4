import { EnvironmentDefinition, EnvironmentSettings, EnvironmentType } from '../../core/types';

/**
 * A deployment environment (development, staging, production…). `parentId` makes it inherit every
 * field it does not override from its parent.
 *
 * @example
 * await storage.createEnvironment(new Environment({ name: 'Staging', slug: 'staging', parentId: production.id }));
 */
export class Environment implements EnvironmentDefinition {
  id!: string;
  name!: string;
  slug!: string;
  description!: string | null;
  /** The parent; a parent with children cannot be deleted. */
  parentId!: string | null;
  type!: EnvironmentType;
  settings!: EnvironmentSettings;
  isActive!: boolean;
  version!: number;
  createdAt!: Date;
  updatedAt!: Date;

  constructor(init?: Partial<Environment>) {
    if (init) Object.assign(this, init);
  }
}
