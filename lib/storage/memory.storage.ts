import { SnapshotData, StorageChangeListener } from '../core/changes';
import { AlreadyExistsError, EnvironmentInUseError, NotFoundError } from '../core/errors';
import { assertEnvironmentParent } from '../core/engine';
import { Environment, EnvironmentFlag, FeatureFlag, FlagRule, Segment } from '../entities';
import {
  EnvironmentFlagInput,
  EnvironmentFlagRef,
  EnvironmentFlagUpdate,
  EnvironmentInput,
  EnvironmentUpdate,
  FeatureFlagStorage,
  FlagFilter,
  FlagInput,
  FlagUpdate,
  SegmentInput,
  SegmentUpdate,
} from './feature-flag-storage.interface';
import {
  ChangeNotifier,
  buildEnvironment,
  buildEnvironmentFlag,
  buildFlag,
  buildSegment,
  mergeEnvironment,
  mergeEnvironmentFlag,
  mergeFlag,
  mergeSegment,
} from './storage-records';

/**
 * Deep copies of records (shared by backends): storage keeps and hands out copies only, so that neither the
 * objects a caller passed in nor those it got back share anything with what is stored.
 */
export const copyEnvironment = (e: Environment): Environment => new Environment(structuredClone({ ...e }));
export const copyFlag = (f: FeatureFlag): FeatureFlag =>
  new FeatureFlag({ ...structuredClone({ ...f, rules: undefined }), rules: f.rules.map((r) => new FlagRule(structuredClone({ ...r }))) });
export const copyOverride = (o: EnvironmentFlag): EnvironmentFlag => new EnvironmentFlag(structuredClone({ ...o }));
export const copySegment = (s: Segment): Segment => new Segment(structuredClone({ ...s }));

/** Matches a flag against a `listFlags` filter (shared by backends that filter in memory). */
export function flagMatches(flag: FeatureFlag, filter: FlagFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.status !== undefined) {
    const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
    if (!statuses.includes(flag.status)) return false;
  }
  if (filter.tag !== undefined && !flag.tags.includes(filter.tag)) return false;
  if (filter.search !== undefined) {
    const q = filter.search.toLowerCase();
    if (!flag.key.toLowerCase().includes(q) && !flag.name.toLowerCase().includes(q)) return false;
  }
  return true;
}

/**
 * Keeps everything in process memory: for tests, local development and single-instance apps that declare
 * their flags at boot. Nothing survives a restart.
 */
export class MemoryStorage implements FeatureFlagStorage {
  private readonly environments = new Map<string, Environment>();
  private readonly flags = new Map<string, FeatureFlag>();
  private readonly overrides = new Map<string, EnvironmentFlag>();
  private readonly segments = new Map<string, Segment>();
  private readonly notifier = new ChangeNotifier();

  async init(): Promise<void> {}

  async close(): Promise<void> {}

  subscribe(listener: StorageChangeListener): () => void {
    return this.notifier.subscribe(listener);
  }

  async loadSnapshot(): Promise<SnapshotData> {
    return {
      environments: [...this.environments.values()].map(copyEnvironment),
      flags: [...this.flags.values()].map(copyFlag),
      environmentFlags: [...this.overrides.values()].map(copyOverride),
      segments: [...this.segments.values()].map(copySegment),
    };
  }

  // Environments

  async createEnvironment(input: EnvironmentInput): Promise<Environment> {
    const env = buildEnvironment(input);
    if (this.findEnvironment(env.slug)) throw new AlreadyExistsError('environment', env.slug);
    if (this.environments.has(env.id)) throw new AlreadyExistsError('environment', env.id);
    assertEnvironmentParent([...this.environments.values()], env.slug, null, env.parentId);
    this.environments.set(env.id, copyEnvironment(env));
    this.notifier.emit({ kind: 'environment', op: 'upsert', environment: copyEnvironment(env) });
    return copyEnvironment(env);
  }

  async getEnvironment(slug: string): Promise<Environment | null> {
    const env = this.findEnvironment(slug);
    return env ? copyEnvironment(env) : null;
  }

  async getEnvironmentById(id: string): Promise<Environment | null> {
    const env = this.environments.get(id);
    return env ? copyEnvironment(env) : null;
  }

  async listEnvironments(): Promise<Environment[]> {
    return [...this.environments.values()].map(copyEnvironment);
  }

  async updateEnvironment(update: EnvironmentUpdate): Promise<Environment> {
    const existing = this.requireEnvironment(update);
    const next = mergeEnvironment(existing, update);
    if (next.slug !== existing.slug && this.findEnvironment(next.slug)) throw new AlreadyExistsError('environment', next.slug);
    if (next.parentId !== existing.parentId) {
      assertEnvironmentParent([...this.environments.values()], next.slug, next.id, next.parentId);
    }
    this.environments.set(next.id, copyEnvironment(next));
    this.notifier.emit({ kind: 'environment', op: 'upsert', environment: copyEnvironment(next) });
    return copyEnvironment(next);
  }

  async deleteEnvironment(slug: string): Promise<boolean> {
    const env = this.findEnvironment(slug);
    if (!env) return false;
    const children = [...this.environments.values()].filter((e) => e.parentId === env.id).map((e) => e.slug);
    if (children.length > 0) throw new EnvironmentInUseError(slug, children);
    for (const [id, o] of this.overrides) if (o.environmentId === env.id) this.overrides.delete(id);
    this.environments.delete(env.id);
    this.notifier.emit({ kind: 'environment', op: 'delete', id: env.id, slug: env.slug });
    return true;
  }

  // Flags

  async createFlag(input: FlagInput): Promise<FeatureFlag> {
    const flag = buildFlag(input);
    if (this.findFlag(flag.key)) throw new AlreadyExistsError('flag', flag.key);
    if (this.flags.has(flag.id)) throw new AlreadyExistsError('flag', flag.id);
    this.flags.set(flag.id, copyFlag(flag));
    this.notifier.emit({ kind: 'flag', op: 'upsert', flag: copyFlag(flag) });
    return copyFlag(flag);
  }

  async getFlag(key: string): Promise<FeatureFlag | null> {
    const flag = this.findFlag(key);
    return flag ? copyFlag(flag) : null;
  }

  async listFlags(filter?: FlagFilter): Promise<FeatureFlag[]> {
    return [...this.flags.values()]
      .filter((f) => flagMatches(f, filter))
      .sort((a, b) => a.key.localeCompare(b.key))
      .map(copyFlag);
  }

  async updateFlag(update: FlagUpdate): Promise<FeatureFlag> {
    const existing = 'id' in update && update.id !== undefined ? this.flags.get(update.id) : this.findFlag((update as { key: string }).key);
    if (!existing) throw new NotFoundError('flag', String('id' in update && update.id !== undefined ? update.id : (update as { key: string }).key));
    const next = mergeFlag(existing, update);
    if (next.key !== existing.key && this.findFlag(next.key)) throw new AlreadyExistsError('flag', next.key);
    this.flags.set(next.id, copyFlag(next));
    this.notifier.emit({ kind: 'flag', op: 'upsert', flag: copyFlag(next) });
    return copyFlag(next);
  }

  async deleteFlag(key: string): Promise<boolean> {
    const flag = this.findFlag(key);
    if (!flag) return false;
    for (const [id, o] of this.overrides) if (o.flagId === flag.id) this.overrides.delete(id);
    this.flags.delete(flag.id);
    this.notifier.emit({ kind: 'flag', op: 'delete', id: flag.id, key: flag.key });
    return true;
  }

  // Environment flags (overrides)

  async createEnvironmentFlag(input: EnvironmentFlagInput): Promise<EnvironmentFlag> {
    const env = this.environments.get(input.environmentId);
    if (!env) throw new NotFoundError('environment', input.environmentId);
    const flag = this.flags.get(input.flagId);
    if (!flag) throw new NotFoundError('flag', input.flagId);
    const override = buildEnvironmentFlag(input, flag.type);
    if (this.findOverride(env.id, flag.id)) throw new AlreadyExistsError('environment flag', `${flag.key}@${env.slug}`);
    if (this.overrides.has(override.id)) throw new AlreadyExistsError('environment flag', override.id);
    this.overrides.set(override.id, copyOverride(override));
    this.notifier.emit({ kind: 'environmentFlag', op: 'upsert', environmentFlag: copyOverride(override) });
    return copyOverride(override);
  }

  async getEnvironmentFlag(ref: EnvironmentFlagRef): Promise<EnvironmentFlag | null> {
    const o = this.findOverride(ref.envId, ref.flagId);
    return o ? copyOverride(o) : null;
  }

  async listEnvironmentFlags(filter?: Partial<EnvironmentFlagRef>): Promise<EnvironmentFlag[]> {
    return [...this.overrides.values()]
      .filter((o) => (filter?.envId === undefined || o.environmentId === filter.envId) && (filter?.flagId === undefined || o.flagId === filter.flagId))
      .map(copyOverride);
  }

  async updateEnvironmentFlag(update: EnvironmentFlagUpdate): Promise<EnvironmentFlag> {
    const existing =
      'id' in update && update.id !== undefined
        ? this.overrides.get(update.id)
        : this.findOverride((update as EnvironmentFlag).environmentId, (update as EnvironmentFlag).flagId);
    if (!existing) throw new NotFoundError('environment flag', 'id' in update && update.id ? update.id : `${(update as EnvironmentFlag).flagId}@${(update as EnvironmentFlag).environmentId}`);
    const flag = this.flags.get(existing.flagId)!;
    const next = mergeEnvironmentFlag(existing, update, flag.type);
    this.overrides.set(next.id, copyOverride(next));
    this.notifier.emit({ kind: 'environmentFlag', op: 'upsert', environmentFlag: copyOverride(next) });
    return copyOverride(next);
  }

  async deleteEnvironmentFlag(ref: EnvironmentFlagRef): Promise<boolean> {
    const o = this.findOverride(ref.envId, ref.flagId);
    if (!o) return false;
    this.overrides.delete(o.id);
    this.notifier.emit({ kind: 'environmentFlag', op: 'delete', id: o.id, environmentId: o.environmentId, flagId: o.flagId });
    return true;
  }

  // Segments

  async createSegment(input: SegmentInput): Promise<Segment> {
    const segment = buildSegment(input);
    if (this.findSegment(segment.key)) throw new AlreadyExistsError('segment', segment.key);
    if (this.segments.has(segment.id)) throw new AlreadyExistsError('segment', segment.id);
    if (segment.parentId && !this.segments.has(segment.parentId)) throw new NotFoundError('segment', segment.parentId);
    this.segments.set(segment.id, copySegment(segment));
    this.notifier.emit({ kind: 'segment', op: 'upsert', segment: copySegment(segment) });
    return copySegment(segment);
  }

  async getSegment(key: string): Promise<Segment | null> {
    const s = this.findSegment(key);
    return s ? copySegment(s) : null;
  }

  async listSegments(): Promise<Segment[]> {
    return [...this.segments.values()].map(copySegment);
  }

  async updateSegment(update: SegmentUpdate): Promise<Segment> {
    const existing = 'id' in update && update.id !== undefined ? this.segments.get(update.id) : this.findSegment((update as Segment).key);
    if (!existing) throw new NotFoundError('segment', String((update as Segment).id ?? (update as Segment).key));
    const next = mergeSegment(existing, update);
    if (next.key !== existing.key && this.findSegment(next.key)) throw new AlreadyExistsError('segment', next.key);
    if (next.parentId && !this.segments.has(next.parentId)) throw new NotFoundError('segment', next.parentId);
    this.segments.set(next.id, copySegment(next));
    this.notifier.emit({ kind: 'segment', op: 'upsert', segment: copySegment(next) });
    return copySegment(next);
  }

  async deleteSegment(key: string): Promise<boolean> {
    const s = this.findSegment(key);
    if (!s) return false;
    this.segments.delete(s.id);
    this.notifier.emit({ kind: 'segment', op: 'delete', id: s.id, key: s.key });
    return true;
  }

  private findEnvironment(slug: string): Environment | undefined {
    for (const e of this.environments.values()) if (e.slug === slug) return e;
    return undefined;
  }

  private requireEnvironment(update: EnvironmentUpdate): Environment {
    const byId = 'id' in update && update.id !== undefined;
    const env = byId ? this.environments.get(update.id as string) : this.findEnvironment((update as Environment).slug);
    if (!env) throw new NotFoundError('environment', byId ? String(update.id) : (update as Environment).slug);
    return env;
  }

  private findFlag(key: string): FeatureFlag | undefined {
    for (const f of this.flags.values()) if (f.key === key) return f;
    return undefined;
  }

  private findOverride(envId: string, flagId: string): EnvironmentFlag | undefined {
    for (const o of this.overrides.values()) if (o.environmentId === envId && o.flagId === flagId) return o;
    return undefined;
  }

  private findSegment(key: string): Segment | undefined {
    for (const s of this.segments.values()) if (s.key === key) return s;
    return undefined;
  }
}
