import {
  Condition,
  FlagDefinition,
  FlagRuleDefinition,
  FlagStatus,
  FlagType,
  FlagValue,
  FlagVariant,
} from '../../core/types';

/**
 * A targeting rule of a flag's base definition. Rules are tried by ascending `priority`; the first whose
 * conditions all hold decides. (An environment overrides a flag's rules as a whole, in
 * `Override.rules`.)
 */
export class FlagRule implements FlagRuleDefinition {
  id!: string;
  flagId!: string;
  name!: string | null;
  priority!: number;
  enabled!: boolean;
  conditions!: Condition[];
  serveEnabled!: boolean;
  serveValue!: FlagValue | null;
  rolloutPercentage!: number | null;

  constructor(init?: Partial<FlagRule>) {
    if (init) Object.assign(this, init);
  }
}

/**
 * The base definition of a feature flag, shared by every environment (stored as `feature_flags` in SQL).
 * The route decorator is `@FeatureFlag()`; this is the record it reads.
 * @example
 * await storage.createFlag(new Flag({ key: 'new-checkout', name: 'New checkout' }));
 */
export class Flag implements FlagDefinition {
  id!: string;
  key!: string;
  name!: string;
  description!: string | null;
  type!: FlagType;
  status!: FlagStatus;
  defaultEnabled!: boolean;
  defaultValue!: FlagValue | null;
  tags!: string[];
  metadata!: Record<string, unknown>;
  rules!: FlagRule[];
  variants!: FlagVariant[] | null;
  version!: number;
  createdAt!: Date;
  updatedAt!: Date;

  constructor(init?: Partial<Flag>) {
    if (init) Object.assign(this, init);
  }
}
