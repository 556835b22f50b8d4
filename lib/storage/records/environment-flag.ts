import { EnvironmentFlagDefinition, FlagRuleDefinition, FlagValue, FlagVariant } from '../../core/types';

/**
 * An environment's override of a flag. Each overridable field is nullable: null inherits from the parent
 * environment (and at the root from the base flag). `reason` documents why the environment differs.
 *
 * @example
 * await storage.createEnvironmentFlag(new EnvironmentFlag({ environmentId: staging.id, flagId: flag.id, enabled: true, percentage: 100 }));
 */
export class EnvironmentFlag implements EnvironmentFlagDefinition {
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

  constructor(init?: Partial<EnvironmentFlag>) {
    if (init) Object.assign(this, init);
  }
}
