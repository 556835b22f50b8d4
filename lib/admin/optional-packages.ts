/**
 * The admin module's optional peer dependencies (class-validator, class-transformer, @nestjs/swagger),
 * loaded when present. Importing the library never requires them: without them the DTO decorators do
 * nothing, and `FeatureFlagsAdminModule` refuses to start, naming what to install (Swagger is optional
 * for good: without it the routes simply carry no OpenAPI metadata).
 */
import { loadOptionalPeer } from '../optional-peers';

/** Stands in for a missing package: every export is a decorator factory whose decorators do nothing. */
const inert = new Proxy(
  {},
  {
    get: () => () => () => undefined,
  },
);

const classValidator = loadOptionalPeer<typeof import('class-validator')>('class-validator');
const classTransformer = loadOptionalPeer<typeof import('class-transformer')>('class-transformer');
const nestSwagger = loadOptionalPeer<typeof import('@nestjs/swagger')>('@nestjs/swagger');

export const validator = (classValidator ?? inert) as typeof import('class-validator');
export const transformer = (classTransformer ?? inert) as typeof import('class-transformer');
export const swagger = (nestSwagger ?? inert) as typeof import('@nestjs/swagger');

/** The packages the admin module needs that are not installed. */
export function missingAdminPackages(): string[] {
  return [...(classValidator ? [] : ['class-validator']), ...(classTransformer ? [] : ['class-transformer'])];
}
