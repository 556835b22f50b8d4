import { SnapshotData, StorageChange } from './changes';
import { CompiledFlag, compileFlag } from './compiled-flag';
import { decide, detailsOf, errorDetails, scratch } from './decision';
import { MAX_ENVIRONMENT_DEPTH } from './environment-tree';
import { NotFoundError } from './errors';
import { environmentChain, resolveFlag } from './inheritance';
import { Predicate, compileConditions } from './operators';
import {
  EnvironmentDefinition,
  EvaluationContext,
  EvaluationDetails,
  FlagDefinition,
  FlagValue,
  OverrideDefinition,
  ResolvedFlag,
  SegmentDefinition,
} from './types';

/**
 * The in-memory snapshot of every flag, environment, override and segment, and the evaluator over it.
 *
 * Flags are resolved per environment (field by field along the inheritance chain) and compiled the first
 * time they are evaluated there; a change drops only the compiled entries it can affect, so applying one
 * change costs the same whatever the number of flags. Pure TypeScript: no framework, no I/O.
 */
export class FlagSnapshot {
  private readonly environmentsById = new Map<string, EnvironmentDefinition>();
  private readonly environmentsBySlug = new Map<string, EnvironmentDefinition>();
  private readonly flagsById = new Map<string, FlagDefinition>();
  private readonly flagsByKey = new Map<string, FlagDefinition>();
  /**
   * flagId → environmentId → override. Flag first: resolving a flag reads its few overrides from one small
   * map instead of one lookup per environment of the chain in maps that hold every flag.
   */
  private readonly overrides = new Map<string, Map<string, OverrideDefinition>>();
  private readonly segmentsById = new Map<string, SegmentDefinition>();
  private readonly segmentsByKey = new Map<string, SegmentDefinition>();
  private readonly compiledSegments = new Map<string, Predicate | null>();
  /** environment slug ('' for "no environment") → flag key → compiled flag. */
  private readonly compiled = new Map<string, Map<string, CompiledFlag>>();
  private readonly segmentLookup = (key: string): Predicate | undefined => this.segmentPredicate(key);
  /**
   * The last environment `isEnabled` was asked about (undefined: none) and its compiled flags (null: the
   * environment is unknown or inactive). Most evaluations name the environment of the one before, so
   * this saves looking the environment up twice per call. Reset by every load and apply.
   */
  private viewSlug: string | null | undefined = undefined;
  private viewFlags: Map<string, CompiledFlag> | null = null;

  constructor(data?: SnapshotData) {
    if (data) this.load(data);
  }

  /** Replaces the whole content. */
  load(data: SnapshotData): void {
    this.forgetView();
    this.environmentsById.clear();
    this.environmentsBySlug.clear();
    this.flagsById.clear();
    this.flagsByKey.clear();
    this.overrides.clear();
    this.segmentsById.clear();
    this.segmentsByKey.clear();
    this.compiledSegments.clear();
    this.compiled.clear();
    for (const e of data.environments) this.putEnvironment(e);
    for (const f of data.flags) this.putFlag(f);
    for (const o of data.overrides) this.putOverride(o);
    for (const s of data.segments) this.putSegment(s);
  }

  /** Applies one change, dropping only what it can affect. */
  apply(change: StorageChange): void {
    this.forgetView();
    switch (change.kind) {
      case 'flag': {
        const old = this.flagsById.get(change.op === 'upsert' ? change.flag.id : change.id);
        if (old) {
          this.flagsByKey.delete(old.key);
          this.flagsById.delete(old.id);
          this.forgetCompiledFlag(old.key);
        }
        if (change.op === 'upsert') {
          this.putFlag(change.flag);
          this.forgetCompiledFlag(change.flag.key);
        } else {
          this.overrides.delete(change.id);
        }
        return;
      }
      case 'environment': {
        const id = change.op === 'upsert' ? change.environment.id : change.id;
        const old = this.environmentsById.get(id);
        // Drop compiled entries of the environment and everything that inherits from it, before the
        // change (old parent links) and after it.
        this.forgetCompiledEnvironmentTree(id);
        if (old) {
          this.environmentsBySlug.delete(old.slug);
          this.environmentsById.delete(id);
          this.compiled.delete(old.slug);
        }
        if (change.op === 'upsert') this.putEnvironment(change.environment);
        else for (const perFlag of this.overrides.values()) perFlag.delete(id);
        this.forgetCompiledEnvironmentTree(id);
        return;
      }
      case 'override': {
        const envId = change.op === 'upsert' ? change.override.environmentId : change.environmentId;
        const flagId = change.op === 'upsert' ? change.override.flagId : change.flagId;
        if (change.op === 'upsert') this.putOverride(change.override);
        else this.overrides.get(flagId)?.delete(envId);
        const flag = this.flagsById.get(flagId);
        if (flag) {
          for (const slug of this.descendantSlugs(envId)) this.compiled.get(slug)?.delete(flag.key);
        }
        return;
      }
      case 'segment': {
        const old = this.segmentsById.get(change.op === 'upsert' ? change.segment.id : change.id);
        if (old) {
          this.segmentsByKey.delete(old.key);
          this.segmentsById.delete(old.id);
        }
        if (change.op === 'upsert') this.putSegment(change.segment);
        // Segments are looked up at evaluation time, so flags need no recompiling.
        this.compiledSegments.clear();
        return;
      }
    }
  }

  /** Whether any environment exists. */
  hasEnvironments(): boolean {
    return this.environmentsById.size > 0;
  }

  getEnvironment(slug: string): EnvironmentDefinition | undefined {
    return this.environmentsBySlug.get(slug);
  }

  getEnvironmentById(id: string): EnvironmentDefinition | undefined {
    return this.environmentsById.get(id);
  }

  listEnvironments(): EnvironmentDefinition[] {
    return [...this.environmentsById.values()];
  }

  getFlag(key: string): FlagDefinition | undefined {
    return this.flagsByKey.get(key);
  }

  getFlagById(id: string): FlagDefinition | undefined {
    return this.flagsById.get(id);
  }

  listFlags(): FlagDefinition[] {
    return [...this.flagsById.values()];
  }

  getOverride(environmentId: string, flagId: string): OverrideDefinition | undefined {
    return this.overrides.get(flagId)?.get(environmentId);
  }

  listSegments(): SegmentDefinition[] {
    return [...this.segmentsById.values()];
  }

  /**
   * The inheritance chain of an environment, nearest first: `[environment, parent, …, root]`.
   * @throws NotFoundError for an unknown slug.
   */
  getEnvironmentChain(slug: string): EnvironmentDefinition[] {
    const start = this.environmentsBySlug.get(slug);
    if (!start) throw new NotFoundError('environment', slug);
    return environmentChain(start, this.environmentsById);
  }

  /**
   * Resolves a flag for an environment, field by field: for each overridable field, the nearest
   * environment in the chain that sets it wins; for `enabled`, environment defaults
   * (`settings.defaultEnabled`, nearest first) come next; the base flag is the last fallback.
   * @throws NotFoundError for an unknown environment slug.
   */
  resolve(flag: FlagDefinition, slug: string | null): ResolvedFlag {
    return resolveFlag(flag, slug, slug === null ? [] : this.getEnvironmentChain(slug), this.overrides.get(flag.id));
  }

  /** The compiled flag for an environment (null slug: no environment), or undefined for an unknown key. */
  compiledFlag(key: string, slug: string | null): CompiledFlag | undefined {
    const perEnv = this.compiledOf(slug);
    return perEnv.get(key) ?? this.compileInto(perEnv, key, slug);
  }

  /** The compiled flags of an environment (null slug: no environment), created empty on first use. */
  private compiledOf(slug: string | null): Map<string, CompiledFlag> {
    const envKey = slug ?? '';
    let perEnv = this.compiled.get(envKey);
    if (perEnv === undefined) {
      perEnv = new Map();
      this.compiled.set(envKey, perEnv);
    }
    return perEnv;
  }

  /** Compiles a flag for an environment into its map; undefined for an unknown key. */
  private compileInto(perEnv: Map<string, CompiledFlag>, key: string, slug: string | null): CompiledFlag | undefined {
    const flag = this.flagsByKey.get(key);
    if (flag === undefined) return undefined;
    const cf = compileFlag(this.resolve(flag, slug), this.segmentLookup);
    perEnv.set(key, cf);
    return cf;
  }

  /** The compiled flags `isEnabled` evaluates in `slug`, or null when it cannot be selected (unknown, inactive). */
  private evaluableFlags(slug: string | null): Map<string, CompiledFlag> | null {
    if (slug === this.viewSlug) return this.viewFlags;
    let flags: Map<string, CompiledFlag> | null = null;
    if (slug === null) flags = this.compiledOf(null);
    else {
      const env = this.environmentsBySlug.get(slug);
      if (env !== undefined && env.isActive) flags = this.compiledOf(slug);
    }
    this.viewSlug = slug;
    this.viewFlags = flags;
    return flags;
  }

  private forgetView(): void {
    this.viewSlug = undefined;
    this.viewFlags = null;
  }

  /** Compiles every flag for every environment (optional: flags otherwise compile on first use). */
  warm(): void {
    const slugs: (string | null)[] = this.hasEnvironments() ? [...this.environmentsBySlug.keys()] : [null];
    for (const slug of slugs) for (const key of this.flagsByKey.keys()) this.compiledFlag(key, slug);
  }

  /**
   * Whether a flag is on for a context in an environment. Never throws: an unknown flag, environment or
   * a rollout without targeting key is off.
   */
  isEnabled(key: string, slug: string | null, ctx: EvaluationContext): boolean {
    try {
      const flags = this.evaluableFlags(slug);
      if (flags === null) return false;
      const cf = flags.get(key) ?? this.compileInto(flags, key, slug);
      return cf !== undefined && decide(cf, ctx, scratch).enabled;
    } catch {
      // Like evaluate(): data that breaks at runtime (e.g. segments that refer to each other through
      // their conditions, which recurse without end) makes the flag off rather than throwing.
      return false;
    }
  }

  /**
   * Evaluates a flag with full details. Never throws; errors are reported in `reason`/`errorCode`, with
   * `defaultValue` as the value. A boolean flag's details are frozen and shared between calls (copy them
   * to change them).
   */
  evaluate<T extends FlagValue>(
    key: string,
    slug: string | null,
    ctx: EvaluationContext,
    defaultValue: T,
  ): EvaluationDetails<T> {
    try {
      const flags = this.evaluableFlags(slug);
      const cf = flags === null ? undefined : (flags.get(key) ?? this.compileInto(flags, key, slug));
      if (cf === undefined) return this.notEvaluable(key, slug, flags, defaultValue);
      // The shared outcome, as isEnabled's: detailsOf reads it before anything else can decide.
      return detailsOf(cf, decide(cf, ctx, scratch), defaultValue);
    } catch (e) {
      return errorDetails(key, slug, defaultValue, 'GENERAL', (e as Error).message);
    }
  }

  /** The details of an evaluation that found no flag to decide: its environment (null `flags`) or flag is unknown. */
  private notEvaluable<T extends FlagValue>(
    key: string,
    slug: string | null,
    flags: Map<string, CompiledFlag> | null,
    defaultValue: T,
  ): EvaluationDetails<T> {
    if (flags !== null) return errorDetails(key, slug, defaultValue, 'FLAG_NOT_FOUND', `Flag "${key}" does not exist.`);
    const env = this.environmentsBySlug.get(slug!);
    return errorDetails(
      key,
      slug,
      defaultValue,
      'INVALID_CONTEXT',
      env ? `Environment "${slug}" is inactive.` : `Environment "${slug}" does not exist.`,
    );
  }

  private segmentPredicate(key: string, depth = 0): Predicate | undefined {
    const cached = this.compiledSegments.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const segment = this.segmentsByKey.get(key);
    if (!segment) return undefined;
    // Mark as in progress: a segment whose parents loop back to it matches nothing.
    this.compiledSegments.set(key, null);
    const own = compileConditions(segment.conditions ?? [], this.segmentLookup);
    let predicate: Predicate = own;
    if (segment.parentId) {
      const parent = this.segmentsById.get(segment.parentId);
      const parentPredicate =
        parent && depth < MAX_ENVIRONMENT_DEPTH ? this.segmentPredicate(parent.key, depth + 1) : undefined;
      predicate = parentPredicate ? (ctx) => parentPredicate(ctx) && own(ctx) : () => false;
    }
    this.compiledSegments.set(key, predicate);
    return predicate;
  }

  private putEnvironment(e: EnvironmentDefinition): void {
    this.environmentsById.set(e.id, e);
    this.environmentsBySlug.set(e.slug, e);
  }

  private putFlag(f: FlagDefinition): void {
    this.flagsById.set(f.id, f);
    this.flagsByKey.set(f.key, f);
  }

  private putOverride(o: OverrideDefinition): void {
    let perFlag = this.overrides.get(o.flagId);
    if (!perFlag) {
      perFlag = new Map();
      this.overrides.set(o.flagId, perFlag);
    }
    perFlag.set(o.environmentId, o);
  }

  private putSegment(s: SegmentDefinition): void {
    this.segmentsById.set(s.id, s);
    this.segmentsByKey.set(s.key, s);
  }

  private forgetCompiledFlag(key: string): void {
    for (const perEnv of this.compiled.values()) perEnv.delete(key);
  }

  private forgetCompiledEnvironmentTree(id: string): void {
    for (const slug of this.descendantSlugs(id)) this.compiled.delete(slug);
  }

  /** Slugs of the environment and of every environment inheriting from it. */
  private descendantSlugs(id: string): string[] {
    const result: string[] = [];
    const stack = [id];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const cur = stack.pop()!;
      if (seen.has(cur)) continue;
      seen.add(cur);
      const env = this.environmentsById.get(cur);
      if (env) result.push(env.slug);
      for (const e of this.environmentsById.values()) if (e.parentId === cur) stack.push(e.id);
    }
    return result;
  }
}
