import { Body, Delete, Get, Headers, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { AdminAccess, CurrentPrincipal } from '../auth/admin-access.decorator';
import { assertWriter } from '../auth/admin-principal';
import { ConfirmQueryDto } from '../dto/flag.dto';
import {
  UPDATE_ENVIRONMENT_SHAPE,
  CloneEnvironmentDto,
  CompareQueryDto,
  CreateEnvironmentDto,
  PromoteEnvironmentDto,
  UpdateEnvironmentDto,
} from '../dto/environment.dto';
import { SlugPipe } from '../http/admin-params';
import { IF_MATCH_SCHEMA } from '../http/if-match';
import { AdminResponder } from '../http/admin-responder';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { swagger } from '../optional-packages';
import { EnvironmentAdminService } from '../services/environment-admin.service';
import {
  ApiAdminErrors,
  ApiPendingChange,
  ChainModel,
  CloneModel,
  CompareModel,
  EnvironmentListModel,
  EnvironmentModel,
  PromotionSummaryModel,
} from '../views/response-models';
import { ApiAdminBody, ApiAdminParam, ApiAdminQuery } from '../dto/field.decorator';
import { AdminController } from './admin-controller.decorator';

const { ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation } = swagger;

const SLUG = ApiAdminParam('slug', 'slug', 'Environment slug', 'staging');

/** Environments: declare, re-parent, protect, clone, promote, compare. */
@AdminController('environments', 'environments')
export class EnvironmentsAdminController {
  constructor(
    private readonly environments: EnvironmentAdminService,
    private readonly responder: AdminResponder,
  ) {}

  @Get()
  @AdminAccess('read')
  @ApiOperation({
    summary: 'List environments',
    description: 'Those the token may read, with their parent and protection.',
  })
  @ApiOkResponse({ type: EnvironmentListModel })
  @ApiAdminErrors()
  async list(@CurrentPrincipal() principal: AdminPrincipal, @Res() res: unknown): Promise<void> {
    this.responder.send(res, await this.environments.list(principal));
  }

  @Post()
  @AdminAccess('manage')
  @ApiOperation({
    summary: 'Create an environment',
    description: 'Needs an admin token for every environment. A loop or a chain deeper than 10: 409.',
  })
  @ApiCreatedResponse({ type: EnvironmentModel })
  @ApiAdminErrors(400, 404, 409, 413, 415)
  @ApiAdminBody(CreateEnvironmentDto)
  async create(
    @Body() dto: CreateEnvironmentDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.environments.create(dto, principal));
  }

  @Get(':slug')
  @AdminAccess('read')
  @SLUG
  @ApiOperation({ summary: 'Get an environment' })
  @ApiOkResponse({ type: EnvironmentModel })
  @ApiAdminErrors(400, 404)
  async get(
    @Param('slug', new SlugPipe()) slug: string,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.environments.get(slug, principal));
  }

  @Patch(':slug')
  @AdminAccess('write')
  @SLUG
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'The version this change is based on; 409 if it changed.',
    schema: IF_MATCH_SCHEMA as never,
  })
  @ApiOperation({
    summary: 'Change an environment',
    description:
      'Name, description, parent (refusing loops), type, settings, isActive. A protected environment needs confirmation (and approval when it requires it).',
  })
  @ApiOkResponse({ type: EnvironmentModel })
  @ApiPendingChange()
  @ApiAdminErrors(400, 404, 409, 413, 428, 415)
  @ApiAdminBody(UpdateEnvironmentDto, UPDATE_ENVIRONMENT_SHAPE)
  async update(
    @Param('slug', new SlugPipe()) slug: string,
    @Body() dto: UpdateEnvironmentDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.environments.update(slug, dto, ifMatch, principal));
  }

  @Delete(':slug')
  @AdminAccess('write')
  @SLUG
  @ApiOperation({
    summary: 'Delete an environment',
    description: 'With its overrides. Refused (409) while other environments inherit from it.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiPendingChange()
  @ApiAdminErrors(400, 404, 409, 428)
  @ApiAdminQuery(ConfirmQueryDto)
  async delete(
    @Param('slug', new SlugPipe()) slug: string,
    @Query() query: ConfirmQueryDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.environments.delete(slug, query.confirm, query.reason, principal));
  }

  @Get(':slug/chain')
  @AdminAccess('read')
  @SLUG
  @ApiOperation({
    summary: 'Inheritance chain',
    description: 'The environment and every environment it inherits from, nearest first.',
  })
  @ApiOkResponse({ type: ChainModel })
  @ApiAdminErrors(400, 404)
  async chain(
    @Param('slug', new SlugPipe()) slug: string,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.environments.chain(slug, principal));
  }

  @Post(':slug/clone')
  @AdminAccess('manage')
  @SLUG
  @ApiOperation({
    summary: 'Clone an environment',
    description:
      "Unleash's cloning: a new environment with a copy of every flag override of this one, in one transaction. The copies then evolve independently.",
  })
  @ApiCreatedResponse({ type: CloneModel })
  @ApiAdminErrors(400, 404, 409, 413, 415)
  @ApiAdminBody(CloneEnvironmentDto)
  async clone(
    @Param('slug', new SlugPipe()) slug: string,
    @Body() dto: CloneEnvironmentDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.environments.clone(slug, dto, principal));
  }

  @Post(':slug/promote')
  @AdminAccess('read')
  @SLUG
  @ApiOperation({
    summary: 'Promote every flag to another environment',
    description:
      'Copies each override of this environment to `to`, all or nothing. Run it with `dryRun: true` first to see each before/after.',
  })
  @ApiOkResponse({ type: PromotionSummaryModel })
  @ApiPendingChange()
  @ApiAdminErrors(400, 404, 409, 413, 428, 415)
  @ApiAdminBody(PromoteEnvironmentDto)
  async promote(
    @Param('slug', new SlugPipe()) slug: string,
    @Body() dto: PromoteEnvironmentDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    if (dto.dryRun !== true) assertWriter(principal);
    this.responder.send(res, await this.environments.promote(slug, dto, principal));
  }

  @Get(':slug/compare/:other')
  @AdminAccess('read')
  @SLUG
  @ApiAdminParam('other', 'slug', 'Environment slug', 'production')
  @ApiOperation({
    summary: 'Compare two environments',
    description: 'What every flag resolves to in both, and which fields differ.',
  })
  @ApiOkResponse({ type: CompareModel })
  @ApiAdminErrors(400, 404)
  @ApiAdminQuery(CompareQueryDto)
  async compare(
    @Param('slug', new SlugPipe()) slug: string,
    @Param('other', new SlugPipe('other')) other: string,
    @Query() query: CompareQueryDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.environments.compare(slug, other, query, principal));
  }
}
