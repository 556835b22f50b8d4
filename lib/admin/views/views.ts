import { FlagRuleDefinition, JsonValue, ResolvedFlag } from '../../core/types';
import { ApiToken, AuditEvent, ChangeRequest, ClientKey, Environment, Flag, Override } from '../../storage/records';

/**
 * What the admin API answers: plain JSON views of the records (dates as ISO strings, no storage-internal
 * ids of rules). The Swagger models in `response-models.ts` describe the same shapes.
 */

const iso = (d: Date | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

/** A rule without the ids storage gives it. */
export function ruleView(r: FlagRuleDefinition): FlagRuleDefinition {
  return {
    name: r.name ?? null,
    priority: r.priority,
    enabled: r.enabled ?? true,
    conditions: r.conditions,
    serveEnabled: r.serveEnabled,
    serveValue: r.serveValue ?? null,
    rolloutPercentage: r.rolloutPercentage ?? null,
  };
}

export interface FlagView {
  key: string;
  name: string;
  description: string | null;
  type: string;
  status: string;
  defaultEnabled: boolean;
  defaultValue: JsonValue | null;
  tags: string[];
  metadata: Record<string, unknown>;
  rules: FlagRuleDefinition[];
  variants: JsonValue | null;
  version: number;
  createdAt: string | null;
  updatedAt: string | null;
}

export function flagView(f: Flag): FlagView {
  return {
    key: f.key,
    name: f.name,
    description: f.description,
    type: f.type,
    status: f.status,
    defaultEnabled: f.defaultEnabled,
    defaultValue: f.defaultValue,
    tags: f.tags,
    metadata: f.metadata,
    rules: (f.rules ?? []).map(ruleView),
    variants: (f.variants ?? null) as JsonValue | null,
    version: f.version,
    createdAt: iso(f.createdAt),
    updatedAt: iso(f.updatedAt),
  };
}

export interface OverrideView {
  environment: string;
  enabled: boolean | null;
  percentage: number | null;
  rules: FlagRuleDefinition[] | null;
  value: JsonValue | null;
  variants: JsonValue | null;
  reason: string | null;
  version: number;
  updatedAt: string | null;
}

export function overrideView(o: Override, environment: string): OverrideView {
  return {
    environment,
    enabled: o.enabled,
    percentage: o.percentage,
    rules: o.rules ? o.rules.map(ruleView) : null,
    value: o.value,
    variants: (o.variants ?? null) as JsonValue | null,
    reason: o.reason ?? null,
    version: o.version,
    updatedAt: iso(o.updatedAt),
  };
}

/** A flag as it applies in one environment. */
export interface FlagInEnvironmentView {
  flag: Pick<FlagView, 'key' | 'name' | 'description' | 'type' | 'status' | 'tags' | 'version'>;
  environment: string;
  /** The inheritance chain, nearest first. */
  chain: string[];
  resolved: {
    enabled: boolean;
    percentage: number | null;
    rules: FlagRuleDefinition[];
    value: JsonValue | null;
    variants: JsonValue | null;
  };
  /** Who supplied each field: an environment slug, `<slug>:defaults`, or `base`. */
  sources: ResolvedFlag['sources'];
  /** This environment's own override (null: it inherits everything); its `version` is what If-Match carries. */
  override: OverrideView | null;
}

export function flagInEnvironmentView(
  flag: Flag,
  resolved: ResolvedFlag,
  override: Override | undefined,
): FlagInEnvironmentView {
  return {
    flag: {
      key: flag.key,
      name: flag.name,
      description: flag.description,
      type: flag.type,
      status: flag.status,
      tags: flag.tags,
      version: flag.version,
    },
    environment: resolved.environment as string,
    chain: resolved.chain,
    resolved: {
      enabled: resolved.enabled,
      percentage: resolved.percentage,
      rules: resolved.rules.map(ruleView),
      value: resolved.value,
      variants: (resolved.variants ?? null) as JsonValue | null,
    },
    sources: resolved.sources,
    override: override ? overrideView(override, resolved.environment as string) : null,
  };
}

/** A flag's base definition and every environment's override. */
export interface FlagWithOverridesView {
  flag: FlagView;
  /** Keyed by environment slug (only the environments the caller may read). */
  overrides: Record<string, OverrideView>;
}

export interface EnvironmentView {
  slug: string;
  name: string;
  description: string | null;
  type: string;
  parent: string | null;
  settings: Record<string, unknown>;
  isActive: boolean;
  /** Changes need `"confirm": true` (type production, settings.protected or settings.requireApproval). */
  protected: boolean;
  /** Changes need a second person's approval (settings.requireApproval). */
  requiresApproval: boolean;
  version: number;
  createdAt: string | null;
  updatedAt: string | null;
}

export function isProtectedEnvironment(e: Pick<Environment, 'type' | 'settings'>): boolean {
  return e.type === 'production' || e.settings?.protected === true || e.settings?.requireApproval === true;
}

export function requiresApproval(e: Pick<Environment, 'settings'>): boolean {
  return e.settings?.requireApproval === true;
}

export function environmentView(e: Environment, all: Environment[]): EnvironmentView {
  return {
    slug: e.slug,
    name: e.name,
    description: e.description,
    type: e.type,
    parent: e.parentId ? (all.find((p) => p.id === e.parentId)?.slug ?? null) : null,
    settings: e.settings,
    isActive: e.isActive,
    protected: isProtectedEnvironment(e),
    requiresApproval: requiresApproval(e),
    version: e.version,
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
  };
}

export interface EventView {
  id: number;
  type: string;
  actor: string;
  flagKey: string | null;
  environment: string | null;
  before: JsonValue | null;
  after: JsonValue | null;
  reason: string | null;
  data: Record<string, JsonValue> | null;
  createdAt: string | null;
}

export function eventView(e: AuditEvent): EventView {
  return {
    id: e.id,
    type: e.type,
    actor: e.actor,
    flagKey: e.flagKey,
    environment: e.environment,
    before: e.before,
    after: e.after,
    reason: e.reason,
    data: e.data,
    createdAt: iso(e.createdAt),
  };
}

export interface ApiTokenView {
  id: string;
  name: string;
  type: string;
  environments: string[];
  /** The first characters of the secret, to recognize it. */
  secretHint: string;
  status: 'active' | 'expired' | 'revoked';
  createdBy: string;
  /** The id of the principal that created it. */
  createdById: string | null;
  /** The principal it acts as for the two-person rule: its own id, or the principal of the token that created it. */
  actsAs: string;
  createdAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
}

export function apiTokenView(t: ApiToken, now = Date.now()): ApiTokenView {
  return {
    id: t.id,
    name: t.name,
    type: t.type,
    environments: t.environments,
    secretHint: t.secretHint,
    status: t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt.getTime() <= now ? 'expired' : 'active',
    createdBy: t.createdBy,
    createdById: t.createdById ?? null,
    actsAs: t.principalId ?? t.id,
    createdAt: iso(t.createdAt),
    expiresAt: iso(t.expiresAt),
    revokedAt: iso(t.revokedAt),
    revokedBy: t.revokedBy,
  };
}

export interface ClientKeyView {
  id: string;
  name: string;
  /** The one environment the key evaluates in. */
  environment: string;
  /** The first characters of the secret, to recognize it. */
  secretHint: string;
  status: 'active' | 'revoked';
  createdBy: string;
  createdAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
}

export function clientKeyView(k: ClientKey): ClientKeyView {
  return {
    id: k.id,
    name: k.name,
    environment: k.environment,
    secretHint: k.secretHint,
    status: k.revokedAt ? 'revoked' : 'active',
    createdBy: k.createdBy,
    createdAt: iso(k.createdAt),
    revokedAt: iso(k.revokedAt),
    revokedBy: k.revokedBy,
  };
}

export interface ChangeRequestView {
  id: string;
  status: string;
  title: string;
  flagKey: string | null;
  environments: string[];
  preview: JsonValue | null;
  reason: string | null;
  createdBy: string;
  createdAt: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  version: number;
  /** The storage writes approval applies. */
  writes: JsonValue;
}

export function changeRequestView(c: ChangeRequest): ChangeRequestView {
  return {
    id: c.id,
    status: c.status,
    title: c.title,
    flagKey: c.flagKey,
    environments: c.environments,
    preview: c.preview,
    reason: c.reason,
    createdBy: c.createdBy,
    createdAt: iso(c.createdAt),
    decidedBy: c.decidedBy,
    decidedAt: iso(c.decidedAt),
    decisionReason: c.decisionReason,
    version: c.version,
    writes: JSON.parse(JSON.stringify(c.writes)) as JsonValue,
  };
}

/** What a write answers when a protected environment turned it into a change request (HTTP 202). */
export interface PendingChangeView {
  status: 'pending';
  message: string;
  changeRequest: ChangeRequestView;
}

export function pendingChangeView(c: ChangeRequest): PendingChangeView {
  return {
    status: 'pending',
    message: `${c.environments.map((e) => `"${e}"`).join(', ')} ${c.environments.length > 1 ? 'require' : 'requires'} approval: nothing was changed yet. Change request ${c.id} waits for another admin to approve it (POST …/change-requests/${c.id}/approve).`,
    changeRequest: changeRequestView(c),
  };
}
