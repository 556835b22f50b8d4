export * from '../../lib';
export { resolveOptions as resolveOptionsForTest } from '../../lib/feature-flags.options';
