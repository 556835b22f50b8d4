import { Condition, SegmentDefinition } from '../../core/types';

/**
 * A named, reusable set of conditions (e.g. `beta-testers`), referenced from rules with the `in_segment`
 * and `not_in_segment` operators. A segment with a parent matches only when its parent matches too.
 */
export class Segment implements SegmentDefinition {
  id!: string;
  key!: string;
  name!: string;
  description!: string | null;
  conditions!: Condition[];
  parentId!: string | null;
  version!: number;
  createdAt!: Date;
  updatedAt!: Date;

  constructor(init?: Partial<Segment>) {
    if (init) Object.assign(this, init);
  }
}
