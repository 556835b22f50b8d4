import { Body, Delete, Get, Headers, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { AdminAccess, CurrentPrincipal } from '../auth/admin-access.decorator';
import { assertWriter } from '../auth/admin-principal';
import {
  PATCH_FLAG_SHAPES,
  ConfirmQueryDto,
  CreateFlagDto,
  FlagActionDto,
  FlagQueryDto,
  ListFlagsQueryDto,
  PatchFlagDto,
  PromoteFlagDto,
} from '../dto/flag.dto';
import { FlagKeyPipe, SlugPipe } from '../http/admin-params';
import { IF_MATCH_SCHEMA } from '../http/if-match';
import { AdminResponder } from '../http/admin-responder';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { swagger } from '../optional-packages';
import { FlagAdminService } from '../services/flag-admin.service';
import { PromotionAdminService } from '../services/promotion-admin.service';
import {
  ApiAdminErrors,
  ApiPendingChange,
  FlagInEnvironmentModel,
  FlagModel,
  FlagPageModel,
  FlagWithOverridesModel,
  PromotionResultModel,
} from '../views/response-models';
import { ApiAdminBody, ApiAdminParam, ApiAdminQuery } from '../dto/field.decorator';
import { AdminController } from './admin-controller.decorator';

const {
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOperation,
  getSchemaPath,
} = swagger;

const KEY = ApiAdminParam('key', 'flagKey', 'Flag key', 'new-checkout');
const IF_MATCH = ApiHeader({
  name: 'If-Match',
  required: false,
  description:
    'Apply only if the version is still this one ("3"; "0": the override must not exist yet); 409 otherwise.',
  schema: IF_MATCH_SCHEMA as never,
});

/** Flags: read them per environment, change overrides and the base flag, promote, archive. */
@AdminController('feature-flags', 'feature flags')
@ApiExtraModels(FlagInEnvironmentModel, FlagWithOverridesModel)
export class FeatureFlagsAdminController {
  constructor(
    private readonly flags: FlagAdminService,
    private readonly promotion: PromotionAdminService,
    private readonly responder: AdminResponder,
  ) {}

  @Get()
  @AdminAccess('read')
  @ApiOperation({
    summary: 'List flags',
    description:
      'Filtered by status (default: not archived), tag and search; paginated. With `env`, each flag is also resolved there.',
  })
  @ApiOkResponse({ type: FlagPageModel })
  @ApiAdminErrors(400, 404)
  @ApiAdminQuery(ListFlagsQueryDto)
  async list(
    @Query() query: ListFlagsQueryDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.flags.list(query, principal));
  }

  @Post()
  @AdminAccess('write')
  @ApiOperation({
    summary: 'Create a flag',
    description:
      'Needs a token for every environment. A flag that would be on in a protected environment needs confirmation (and approval there).',
  })
  @ApiCreatedResponse({ type: FlagModel })
  @ApiPendingChange()
  @ApiAdminErrors(400, 409, 413, 428, 415)
  @ApiAdminBody(CreateFlagDto)
  async create(
    @Body() dto: CreateFlagDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.flags.create(dto, principal));
  }

  @Get(':key')
  @AdminAccess('read')
  @KEY
  @ApiOperation({
    summary: 'Get a flag',
    description:
      "With `env`: the flag as resolved there, the environment that supplied each field, the inheritance chain and the environment's own override (ETag: its version). Without: the base flag and every environment's override.",
  })
  @ApiOkResponse({
    schema: {
      oneOf: [{ $ref: getSchemaPath(FlagInEnvironmentModel) }, { $ref: getSchemaPath(FlagWithOverridesModel) }],
    },
  })
  @ApiAdminErrors(400, 404)
  @ApiAdminQuery(FlagQueryDto)
  async get(
    @Param('key', FlagKeyPipe) key: string,
    @Query() query: FlagQueryDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.flags.get(key, query.env, principal));
  }

  @Patch(':key')
  @AdminAccess('write')
  @KEY
  @IF_MATCH
  @ApiOperation({
    summary: "Change an environment's override, or the base flag",
    description:
      "With `environment`: that environment's override (null makes a field inherit again; `reason` is kept with the override). Without: the base flag (`enabled`/`value` are its defaults). Returns the new resolved state; 202 with a change request when the environment requires approval.",
  })
  @ApiOkResponse({
    schema: {
      oneOf: [{ $ref: getSchemaPath(FlagInEnvironmentModel) }, { $ref: getSchemaPath(FlagWithOverridesModel) }],
    },
  })
  @ApiPendingChange()
  @ApiAdminErrors(400, 404, 409, 413, 428, 415)
  @ApiAdminBody(PatchFlagDto, PATCH_FLAG_SHAPES)
  async patch(
    @Param('key', FlagKeyPipe) key: string,
    @Body() dto: PatchFlagDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.flags.patch(key, dto, ifMatch, principal));
  }

  @Delete(':key')
  @AdminAccess('write')
  @KEY
  @ApiOperation({
    summary: 'Delete an archived flag',
    description: 'Only archived flags can be deleted (409 otherwise), with every override.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiAdminErrors(400, 404, 409)
  @ApiAdminQuery(ConfirmQueryDto)
  async delete(
    @Param('key', FlagKeyPipe) key: string,
    @Query() query: ConfirmQueryDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.flags.delete(key, query.reason, principal));
  }

  @Post(':key/promote')
  @AdminAccess('read')
  @KEY
  @ApiOperation({
    summary: 'Promote a flag from one environment to another',
    description:
      "Copies the source environment's override (enabled, percentage, rules, value, variants, reason) to the target. `dryRun` shows before/after without writing. No override in the source: 409.",
  })
  @ApiOkResponse({ type: PromotionResultModel })
  @ApiPendingChange()
  @ApiAdminErrors(400, 404, 409, 413, 428, 415)
  @ApiAdminBody(PromoteFlagDto)
  async promote(
    @Param('key', FlagKeyPipe) key: string,
    @Body() dto: PromoteFlagDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    if (dto.dryRun !== true) assertWriter(principal);
    this.responder.send(res, await this.promotion.promote(key, dto, principal));
  }

  @Post(':key/archive')
  @AdminAccess('write')
  @KEY
  @ApiOperation({
    summary: 'Archive a flag',
    description: 'It is off everywhere (a kill switch: a protected environment needs confirmation only).',
  })
  @ApiOkResponse({ type: FlagModel })
  @ApiAdminErrors(400, 404, 409, 428, 415)
  @ApiAdminBody(FlagActionDto)
  async archive(
    @Param('key', FlagKeyPipe) key: string,
    @Body() dto: FlagActionDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.flags.setStatus(key, 'archived', dto, principal));
  }

  @Post(':key/restore')
  @AdminAccess('write')
  @KEY
  @ApiOperation({
    summary: 'Restore an archived flag',
    description: 'Active again; what it then serves in a protected environment needs confirmation (and approval).',
  })
  @ApiOkResponse({ type: FlagModel })
  @ApiPendingChange()
  @ApiAdminErrors(400, 404, 409, 428, 415)
  @ApiAdminBody(FlagActionDto)
  async restore(
    @Param('key', FlagKeyPipe) key: string,
    @Body() dto: FlagActionDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.flags.setStatus(key, 'active', dto, principal));
  }

  @Delete(':key/environments/:environment')
  @AdminAccess('write')
  @KEY
  @ApiAdminParam('environment', 'slug', 'Environment slug', 'staging')
  @IF_MATCH
  @ApiOperation({
    summary: "Remove an environment's override",
    description: 'The environment inherits the flag again. Protected environments need `?confirm=true`.',
  })
  @ApiOkResponse({ type: FlagInEnvironmentModel })
  @ApiPendingChange()
  @ApiAdminErrors(400, 404, 409, 428)
  @ApiAdminQuery(ConfirmQueryDto)
  async removeOverride(
    @Param('key', FlagKeyPipe) key: string,
    @Param('environment', new SlugPipe('environment')) environment: string,
    @Query() query: ConfirmQueryDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(
      res,
      await this.flags.removeOverride(key, environment, query.confirm, query.reason, ifMatch, principal),
    );
  }
}
