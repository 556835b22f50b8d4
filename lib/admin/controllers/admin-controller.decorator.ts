import { applyDecorators, Controller, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { AdminAuthGuard } from '../auth/admin-auth.guard';
import { AdminExceptionFilter } from '../http/admin-exception.filter';
import { AdminValidationPipe } from '../http/admin-validation.pipe';
import { swagger } from '../optional-packages';

/**
 * An admin controller: mounted under the admin prefix, behind the admin guard, with the admin
 * validation pipe and exception filter (all scoped to it: the host app's settings are left alone).
 */
export function AdminController(path: string, tag: string): ClassDecorator {
  return applyDecorators(
    Controller(path),
    UseGuards(AdminAuthGuard),
    UsePipes(AdminValidationPipe),
    UseFilters(AdminExceptionFilter),
    swagger.ApiTags(tag),
    swagger.ApiBearerAuth(),
  );
}
