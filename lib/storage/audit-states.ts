import { JsonValue } from '../core/types';
import { ApiToken, ChangeRequest, Environment, Flag, Override, Segment } from './records';

/**
 * What an audit event's `before` and `after` keep of each kind of record.
 */

// What an event keeps of each record: every field a reader needs to see what changed, without ids of
// rows that are replaced on every write (rule ids) or timestamps (the event has its own).

export function flagState(f: Flag): JsonValue {
  return json({
    key: f.key,
    name: f.name,
    description: f.description,
    type: f.type,
    status: f.status,
    defaultEnabled: f.defaultEnabled,
    defaultValue: f.defaultValue,
    tags: f.tags,
    metadata: f.metadata,
    rules: (f.rules ?? []).map((r) => ({
      name: r.name,
      priority: r.priority,
      enabled: r.enabled,
      conditions: r.conditions,
      serveEnabled: r.serveEnabled,
      serveValue: r.serveValue,
      rolloutPercentage: r.rolloutPercentage,
    })),
    variants: f.variants,
    version: f.version,
  });
}

export function environmentState(e: Environment, parentSlug?: string | null): JsonValue {
  return json({
    slug: e.slug,
    name: e.name,
    description: e.description,
    parent: parentSlug ?? null,
    type: e.type,
    settings: e.settings,
    isActive: e.isActive,
    version: e.version,
  });
}

export function overrideState(o: Override): JsonValue {
  return json({
    enabled: o.enabled,
    percentage: o.percentage,
    rules: o.rules,
    value: o.value,
    variants: o.variants ?? null,
    reason: o.reason ?? null,
    version: o.version,
  });
}

export function segmentState(s: Segment): JsonValue {
  return json({
    key: s.key,
    name: s.name,
    description: s.description,
    conditions: s.conditions,
    parentId: s.parentId,
    version: s.version,
  });
}

export function apiTokenState(t: ApiToken): JsonValue {
  return json({
    id: t.id,
    name: t.name,
    type: t.type,
    environments: t.environments,
    secretHint: t.secretHint,
    expiresAt: t.expiresAt ? t.expiresAt.toISOString() : null,
    revokedAt: t.revokedAt ? t.revokedAt.toISOString() : null,
  });
}

export function changeRequestState(c: ChangeRequest): JsonValue {
  return json({
    id: c.id,
    status: c.status,
    title: c.title,
    environments: c.environments,
    flagKey: c.flagKey,
    createdBy: c.createdBy,
    decidedBy: c.decidedBy,
    version: c.version,
  });
}

function json(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
