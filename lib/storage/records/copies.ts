import { Environment } from './environment';
import { Override } from './override';
import { Flag, FlagRule } from './flag';
import { Segment } from './segment';

/**
 * Deep copies of records: storage keeps and hands out copies only, so that neither the objects a caller
 * passed in nor those it got back share anything with what is stored.
 */
export const copyEnvironment = (e: Environment): Environment => new Environment(structuredClone({ ...e }));
export const copyFlag = (f: Flag): Flag =>
  new Flag({
    ...structuredClone({ ...f, rules: undefined }),
    rules: f.rules.map((r) => new FlagRule(structuredClone({ ...r }))),
  });
export const copyOverride = (o: Override): Override => new Override(structuredClone({ ...o }));
export const copySegment = (s: Segment): Segment => new Segment(structuredClone({ ...s }));
