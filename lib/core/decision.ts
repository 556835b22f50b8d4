import { CompiledFlag, CompiledVariant } from './compiled-flag';
import { BASE_SOURCE } from './inheritance';
import { BUCKET_COUNT, rolloutBucketOf, variantBucket } from './murmur3';
import {
  EvaluationContext,
  EvaluationDetails,
  EvaluationErrorCode,
  EvaluationReason,
  FieldSource,
  FlagValue,
} from './types';

/** What `decide` found; reused between calls so that evaluation allocates nothing. */
export interface Outcome {
  enabled: boolean;
  reason: EvaluationReason;
  /** Index of the matching rule, or -1. */
  rule: number;
  variant: CompiledVariant | null;
  errorCode: EvaluationErrorCode | null;
}

export const scratch: Outcome = { enabled: false, reason: 'STATIC', rule: -1, variant: null, errorCode: null };

export function decide(cf: CompiledFlag, ctx: EvaluationContext, out: Outcome): Outcome {
  out.rule = -1;
  out.variant = null;
  out.errorCode = null;
  if (!cf.active || !cf.enabled) {
    out.enabled = false;
    out.reason = 'DISABLED';
    return out;
  }
  const tk = ctx.targetingKey;
  const hasKey = typeof tk === 'string' && tk !== '';
  let bucket = -1;
  const rules = cf.rules;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (!r.predicate(ctx)) continue;
    // A rule at 100% applies to every match, with or without targeting key (like a flag at 100%).
    if (r.threshold >= 0 && r.threshold < BUCKET_COUNT) {
      if (!hasKey) continue;
      if (bucket < 0) bucket = rolloutBucketOf(cf.rolloutPrefix, tk);
      if (bucket >= r.threshold) continue;
    }
    out.rule = i;
    out.enabled = r.serveEnabled;
    out.reason = 'TARGETING_MATCH';
    if (r.serveEnabled && r.serveValue === null) pickVariant(cf, ctx, out);
    return out;
  }
  const t = cf.threshold;
  if (t < 0 || t >= BUCKET_COUNT) {
    out.enabled = true;
    out.reason = rules.length > 0 ? 'DEFAULT' : 'STATIC';
  } else if (t === 0) {
    out.enabled = false;
    out.reason = rules.length > 0 ? 'DEFAULT' : 'STATIC';
    return out;
  } else if (!hasKey) {
    out.enabled = false;
    out.reason = 'ERROR';
    out.errorCode = 'TARGETING_KEY_MISSING';
    return out;
  } else {
    if (bucket < 0) bucket = rolloutBucketOf(cf.rolloutPrefix, tk);
    out.enabled = bucket < t;
    out.reason = 'SPLIT';
    if (!out.enabled) return out;
  }
  pickVariant(cf, ctx, out);
  return out;
}

function pickVariant(cf: CompiledFlag, ctx: EvaluationContext, out: Outcome): void {
  const variants = cf.variants;
  if (variants === null) return;
  const tk = ctx.targetingKey;
  if (typeof tk !== 'string' || tk === '') return;
  const b = variantBucket(cf.key, tk);
  for (let i = 0; i < variants.length; i++) {
    if (b < variants[i].upper) {
      out.variant = variants[i];
      out.reason = out.reason === 'TARGETING_MATCH' ? 'TARGETING_MATCH' : 'SPLIT';
      return;
    }
  }
}

export function errorDetails<T>(
  flagKey: string,
  environment: string | null,
  value: T,
  errorCode: EvaluationErrorCode,
  errorMessage: string,
): EvaluationDetails<T> {
  return { flagKey, value, enabled: false, reason: 'ERROR', environment, source: BASE_SOURCE, errorCode, errorMessage };
}

/**
 * The details of a decision. A boolean flag's are built once per way of deciding it and shared, frozen:
 * evaluating it with details then allocates nothing.
 */
export function detailsOf<T extends FlagValue>(cf: CompiledFlag, out: Outcome, defaultValue: T): EvaluationDetails<T> {
  const answers = cf.answers;
  if (answers === null) return buildDetails(cf, out, defaultValue);
  const at = answerIndex(out);
  let details = answers[at];
  if (details === undefined) {
    details = Object.freeze(buildDetails(cf, out, defaultValue));
    answers[at] = details;
  }
  return details as EvaluationDetails<T>;
}

/**
 * Which way a boolean flag was decided — everything its details depend on: 0 off (disabled or
 * archived), 1 on for everyone, 2 off at 0%, 3 a rollout without targeting key, 4 and 5 in and out of the
 * rollout, 6 + i the i-th rule matched.
 */
function answerIndex(out: Outcome): number {
  if (out.rule >= 0) return 6 + out.rule;
  switch (out.reason) {
    case 'DISABLED':
      return 0;
    case 'ERROR':
      return 3;
    case 'SPLIT':
      return out.enabled ? 4 : 5;
    default:
      return out.enabled ? 1 : 2;
  }
}

function buildDetails<T extends FlagValue>(cf: CompiledFlag, out: Outcome, defaultValue: T): EvaluationDetails<T> {
  const s = cf.sources;
  let source: FieldSource;
  let value: FlagValue;
  if (!cf.active) source = BASE_SOURCE;
  else if (out.rule >= 0) source = s.rules;
  else if (out.reason === 'DISABLED') source = s.enabled;
  else if (cf.threshold >= 0 && cf.threshold < BUCKET_COUNT) source = s.percentage;
  else source = s.enabled;
  if (cf.type === 'boolean') {
    value = out.enabled;
  } else if (!out.enabled) {
    value = defaultValue;
  } else if (out.rule >= 0 && cf.rules[out.rule].serveValue !== null) {
    value = cf.rules[out.rule].serveValue as FlagValue;
  } else if (out.variant !== null) {
    value = out.variant.value;
    source = s.variants;
  } else {
    value = cf.value ?? defaultValue;
    if (out.rule < 0) source = s.value;
  }
  // Built field by field here, read-only for every caller.
  const details: { -readonly [K in keyof EvaluationDetails<T>]: EvaluationDetails<T>[K] } = {
    flagKey: cf.key,
    value: value as T,
    enabled: out.enabled,
    reason: out.reason,
    environment: cf.environment,
    source,
  };
  if (out.variant !== null) details.variant = out.variant.key;
  if (out.errorCode !== null) {
    details.errorCode = out.errorCode;
    details.errorMessage =
      out.errorCode === 'TARGETING_KEY_MISSING'
        ? `Flag "${cf.key}" is rolled out to ${cf.threshold / 100}% and the context has no targetingKey to bucket by.`
        : 'Evaluation failed.';
  }
  return details;
}
