import { Environment } from './environment.entity';
import { EnvironmentFlag } from './environment-flag.entity';
import { FeatureFlag } from './feature-flag.entity';
import { FlagRule } from './flag-rule.entity';
import { Segment } from './segment.entity';

export { Environment, EnvironmentFlag, FeatureFlag, FlagRule, Segment };

/** Every TypeORM entity of the module: add them to your own `TypeOrmModule` when sharing its connection. */
export const FEATURE_FLAG_ENTITIES = [FeatureFlag, FlagRule, Environment, EnvironmentFlag, Segment] as const;
