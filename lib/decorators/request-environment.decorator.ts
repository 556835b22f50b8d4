import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { currentRequestState, getRequestEnvironment } from '../environment/request-state';

/**
 * Injects the request's environment slug into a handler parameter.
 *
 * @example
 * @Get('debug/environment')
 * debug(@RequestEnvironment() environment: string) {
 *   return { environment };
 * }
 */
export const RequestEnvironment = createParamDecorator((_data: unknown, context: ExecutionContext): string | null => {
  if (context.getType() === 'http') return getRequestEnvironment(context.switchToHttp().getRequest());
  return currentRequestState()?.environment ?? null;
});
