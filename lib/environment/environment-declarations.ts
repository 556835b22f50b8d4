import { AlreadyExistsError, FeatureFlagsConfigurationError } from '../core/errors';
import { EnvironmentType } from '../core/types';
import { Environment } from '../storage/records';
import { EnvironmentDeclaration } from '../interfaces/feature-flags-module-options.interface';
import { FeatureFlagStorage } from '../storage/feature-flag-storage.interface';

const TYPE_BY_SLUG: Record<string, EnvironmentType> = {
  production: 'production',
  prod: 'production',
  live: 'production',
  staging: 'preproduction',
  stage: 'preproduction',
  preprod: 'preproduction',
  preproduction: 'preproduction',
  test: 'test',
  qa: 'test',
};

function titleCase(slug: string): string {
  return slug
    .split(/[-_]/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(' ');
}

/** Declarations ordered parents first; a loop among them is a configuration error. */
function parentsFirst(declarations: EnvironmentDeclaration[]): EnvironmentDeclaration[] {
  const bySlug = new Map(declarations.map((d) => [d.slug, d]));
  const ordered: EnvironmentDeclaration[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (d: EnvironmentDeclaration, path: string[]): void => {
    const s = state.get(d.slug);
    if (s === 'done') return;
    if (s === 'visiting') {
      throw new FeatureFlagsConfigurationError(
        'environments',
        `declares an inheritance loop: ${[...path, d.slug].join(' → ')}`,
      );
    }
    state.set(d.slug, 'visiting');
    const parent = d.parent ? bySlug.get(d.parent) : undefined;
    if (parent) visit(parent, [...path, d.slug]);
    state.set(d.slug, 'done');
    ordered.push(d);
  };
  for (const d of declarations) visit(d, []);
  return ordered;
}

/**
 * Creates or updates the environments declared in configuration, parents first. Declared fields win over
 * stored ones (configuration is the source of truth for them); an absent `parent` makes a root. Safe to
 * run from several instances at once.
 */
export async function syncDeclaredEnvironments(
  storage: FeatureFlagStorage,
  declarations: EnvironmentDeclaration[],
): Promise<void> {
  for (const d of parentsFirst(declarations)) {
    let parentId: string | null = null;
    if (d.parent) {
      const parent = await storage.getEnvironment(d.parent);
      if (!parent) {
        throw new FeatureFlagsConfigurationError(
          'environments',
          `declares "${d.slug}" with parent "${d.parent}", which is neither declared nor stored`,
        );
      }
      parentId = parent.id;
    }
    const wanted: Partial<Environment> = { parentId };
    if (d.name !== undefined) wanted.name = d.name;
    if (d.type !== undefined) wanted.type = d.type;
    if (d.description !== undefined) wanted.description = d.description;
    if (d.settings !== undefined) wanted.settings = d.settings;
    if (d.isActive !== undefined) wanted.isActive = d.isActive;
    let existing = await storage.getEnvironment(d.slug);
    if (!existing) {
      try {
        await storage.createEnvironment({
          slug: d.slug,
          name: d.name ?? titleCase(d.slug),
          type:
            d.type ??
            (Object.prototype.hasOwnProperty.call(TYPE_BY_SLUG, d.slug) ? TYPE_BY_SLUG[d.slug] : 'development'),
          ...wanted,
        });
        continue;
      } catch (e) {
        if (!(e instanceof AlreadyExistsError)) throw e;
        existing = await storage.getEnvironment(d.slug);
        if (!existing) throw e;
      }
    }
    const stored = existing as unknown as Record<string, unknown>;
    const changed = Object.entries(wanted).filter(
      ([k, v]) => JSON.stringify(stored[k] ?? null) !== JSON.stringify(v ?? null),
    );
    if (changed.length > 0) await storage.updateEnvironment({ id: existing.id, ...Object.fromEntries(changed) });
  }
}
