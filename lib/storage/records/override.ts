import { FlagRuleDefinition, FlagValue, FlagVariant, OverrideDefinition } from '../../core/types';

/**
 * An environment's override of a flag. Each overridable field is nullable: null inherits from the parent
 * environment (and at the root from the base flag). `reason` documents why the environment differs.
 * Stored as `feature_flag_environment_flags` in SQL (the table's name from before overrides were called
 * overrides) and under `override:<environment slug>:<flag key>` in Redis.
 *
 * @example
 * await storage.createOverride(new Override({ environmentId: staging.id, flagId: flag.id, enabled: true, percentage: 100 }));
 */
export class Override implements OverrideDefinition {
  id!: string;
  environmentId!: string;
  flagId!: string;
  enabled!: boolean | null;
  percentage!: number | null;
  rules!: FlagRuleDefinition[] | null;
  value!: FlagValue | null;
  variants!: FlagVariant[] | null;
  reason!: string | null;
  version!: number;
  createdAt!: Date;
  updatedAt!: Date;

  constructor(init?: Partial<Override>) {
    if (init) Object.assign(this, init);
  }
}
