import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ADMIN_ACCESS_METADATA } from '../feature-flags-admin.internal-constants';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { getRequestPrincipal } from './admin-principal';

/**
 * What a route needs of the principal's token type: `read` (any token), `write` (an admin token) or
 * `manage` (an admin token for every environment: API tokens, new environments). Environment scopes are
 * checked by the route itself, once it knows the environment.
 */
export type AdminAccessLevel = 'read' | 'write' | 'manage';

/** Sets the access level of an admin route or controller (the method's wins). */
export const AdminAccess = (level: AdminAccessLevel): ClassDecorator & MethodDecorator =>
  SetMetadata(ADMIN_ACCESS_METADATA, level);

/** The principal the admin guard authenticated. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): AdminPrincipal => {
  const principal = getRequestPrincipal(context.switchToHttp().getRequest());
  if (!principal) throw new Error('CurrentPrincipal used outside the admin guard');
  return principal;
});
