import { Inject, Injectable } from '@nestjs/common';
import { FlagSnapshot } from '../core/snapshot';
import { FEATURE_FLAGS_OPTIONS } from '../feature-flags.internal-constants';
import { ResolvedFeatureFlagsOptions } from '../feature-flags.options';

/**
 * Which environments a request may select (`allowedEnvironments`, active ones), and the environment of
 * evaluations that name none (`defaultEnvironment`).
 */
@Injectable()
export class EnvironmentSelection {
  private readonly allowed: ReadonlySet<string> | undefined;

  constructor(
    @Inject(FEATURE_FLAGS_OPTIONS) private readonly options: ResolvedFeatureFlagsOptions,
    private readonly snapshot: FlagSnapshot,
  ) {
    this.allowed = options.allowedEnvironments ? new Set(options.allowedEnvironments) : undefined;
  }

  /**
   * The environment of evaluations that name none; null while it does not exist (nor any environment):
   * flags then evaluate on their base definition.
   */
  defaultEnvironment(): string | null {
    if (!this.snapshot.hasEnvironments()) return null;
    const slug = this.options.defaultEnvironment;
    // Declared environments exist (checked at boot); run-time created ones may not exist yet.
    return this.options.environments.length > 0 || this.snapshot.getEnvironment(slug) !== undefined ? slug : null;
  }

  /** Whether the options name `slug` (allowedEnvironments, defaultEnvironment) and it does not exist (yet). */
  isNamedButMissing(slug: string): boolean {
    if (this.snapshot.getEnvironment(slug) !== undefined) return false;
    return (this.allowed?.has(slug) ?? false) || slug === this.options.defaultEnvironment;
  }

  /** The environments the options name that do not exist, with the options naming each. */
  missingEnvironments(): { slug: string; options: string[] }[] {
    const named = new Map<string, string[]>();
    const add = (slug: string, option: string) => named.set(slug, [...(named.get(slug) ?? []), option]);
    for (const slug of this.options.allowedEnvironments ?? []) add(slug, 'allowedEnvironments');
    add(this.options.defaultEnvironment, 'defaultEnvironment');
    return [...named]
      .filter(([slug]) => !this.snapshot.getEnvironment(slug))
      .map(([slug, options]) => ({ slug, options }));
  }

  /** Whether a request may select an environment (normalized slug). */
  isSelectable(slug: string): boolean {
    if (this.allowed !== undefined && !this.allowed.has(slug)) return false;
    const env = this.snapshot.getEnvironment(slug);
    return env !== undefined && env.isActive;
  }

  /** The environments a request may select now. */
  selectableEnvironments(): string[] {
    const active = this.snapshot
      .listEnvironments()
      .filter((e) => e.isActive)
      .map((e) => e.slug);
    return (this.allowed ? active.filter((s) => this.allowed!.has(s)) : active).sort();
  }
}
