import { EnvironmentCycleError, EnvironmentDepthError, NotFoundError } from './errors';
import { EnvironmentDefinition } from './types';

/** The most environments one inheritance chain may hold (an environment and all its ancestors). */
export const MAX_ENVIRONMENT_DEPTH = 10;

/**
 * Checks that `parentId` may become the parent of the environment `id` (null when it is being created):
 * the parent exists, no cycle forms, and no chain grows past `maxDepth`. Storage backends call this on
 * every create and re-parent.
 */
export function assertEnvironmentParent(
  environments: readonly EnvironmentDefinition[],
  slug: string,
  id: string | null,
  parentId: string | null,
  maxDepth = MAX_ENVIRONMENT_DEPTH,
): void {
  if (parentId === null) {
    if (id !== null && subtreeHeight(environments, id) > maxDepth) throw new EnvironmentDepthError(slug, maxDepth);
    return;
  }
  const byId = new Map(environments.map((e) => [e.id, e]));
  const parent = byId.get(parentId);
  if (!parent) throw new NotFoundError('environment', parentId);
  let depthAbove = 0;
  for (
    let cur: EnvironmentDefinition | undefined = parent;
    cur;
    cur = cur.parentId ? byId.get(cur.parentId) : undefined
  ) {
    if (cur.id === id) throw new EnvironmentCycleError(slug, parent.slug);
    depthAbove++;
    if (depthAbove > maxDepth) break;
  }
  const height = id === null ? 1 : subtreeHeight(environments, id);
  if (depthAbove + height > maxDepth) throw new EnvironmentDepthError(slug, maxDepth);
}

function subtreeHeight(environments: readonly EnvironmentDefinition[], id: string, guard = 0): number {
  if (guard > MAX_ENVIRONMENT_DEPTH * 4) return guard;
  let height = 1;
  for (const e of environments) {
    if (e.parentId === id) height = Math.max(height, 1 + subtreeHeight(environments, e.id, guard + 1));
  }
  return height;
}
