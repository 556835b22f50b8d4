import { Environment } from './environment';
import { Override } from './override';
import { Flag, FlagRule } from './flag';
import { Segment } from './segment';

/**
 * Deep copies of records: storage keeps and hands out copies only, so that neither the objects a caller
 * passed in nor those it got back share anything with what is stored.
 */
export const copyEnvironment = (e: Environment): Environment => new Environment(copyFields(e));
export const copyFlag = (f: Flag): Flag =>
  new Flag({
    ...copyFields({ ...f, rules: undefined }),
    rules: f.rules.map((r) => new FlagRule(copyFields(r))),
  });
export const copyOverride = (o: Override): Override => new Override(copyFields(o));
export const copySegment = (s: Segment): Segment => new Segment(copyFields(s));

/**
 * A record's own fields as a plain object, each object among them deep-copied (`structuredClone`, a date
 * as a new date): what `structuredClone({ ...record })` gives, without cloning the strings, numbers and
 * nulls that most fields hold.
 */
export function copyFields<T extends object>(record: T): T {
  const copy = { ...record } as Record<string, unknown>;
  for (const key in copy) {
    const value = copy[key];
    if (value === null || typeof value !== 'object') continue;
    copy[key] = value instanceof Date ? new Date(value.getTime()) : structuredClone(value);
  }
  return copy as T;
}
