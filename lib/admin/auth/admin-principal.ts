import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { AdminForbiddenException, EnvironmentForbiddenException } from '../http/admin.exceptions';

const principals = new WeakMap<object, AdminPrincipal>();
/** The principals the admin guard made from API tokens (not from the bootstrap token or `authenticate`). */
const apiTokenPrincipals = new WeakSet<AdminPrincipal>();

/** The id of the principal who answers for `principal` under the two-person rule. */
export function accountableId(principal: AdminPrincipal): string {
  return principal.accountableId ?? principal.id;
}

/** Marks a principal as made from an API token (by the admin guard). */
export function markApiTokenPrincipal(principal: AdminPrincipal): AdminPrincipal {
  apiTokenPrincipals.add(principal);
  return principal;
}

/** Whether a principal was made from an API token: tokens it creates act as its accountable principal. */
export function isApiTokenPrincipal(principal: AdminPrincipal): boolean {
  return apiTokenPrincipals.has(principal);
}

/** Remembers the principal of a request (keyed by the framework request object). */
export function setRequestPrincipal(request: object, principal: AdminPrincipal): void {
  principals.set(request, principal);
}

/** The principal the admin guard authenticated for a request. */
export function getRequestPrincipal(request: object): AdminPrincipal | undefined {
  return principals.get(request);
}

/** Whether a principal may read and change every environment. */
export function coversAllEnvironments(principal: AdminPrincipal): boolean {
  return principal.environments === '*' || principal.environments.includes('*');
}

/** Whether a principal may read or change an environment. */
export function canAccessEnvironment(principal: AdminPrincipal, slug: string): boolean {
  return coversAllEnvironments(principal) || (principal.environments as string[]).includes(slug);
}

/** Refuses (403, naming the environment) a principal that may not touch an environment. */
export function assertEnvironmentAccess(principal: AdminPrincipal, slug: string, action: 'read' | 'change'): void {
  if (!canAccessEnvironment(principal, slug)) throw new EnvironmentForbiddenException(principal, slug, action);
}

/** Refuses (403) a principal that is not limited to nothing: what every environment shares needs `*`. */
export function assertAllEnvironments(principal: AdminPrincipal, what: string): void {
  if (!coversAllEnvironments(principal)) throw new EnvironmentForbiddenException(principal, '*', 'change', what);
}

/** Refuses (403) a read-only principal. */
export function assertWriter(principal: AdminPrincipal): void {
  if (principal.type !== 'admin')
    throw new AdminForbiddenException('READ_ONLY_TOKEN', 'This token is read-only: it cannot change anything.');
}
