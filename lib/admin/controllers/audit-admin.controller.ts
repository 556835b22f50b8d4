import { Body, Delete, Get, Param, Post, Query, Res } from '@nestjs/common';
import { AdminAccess, CurrentPrincipal } from '../auth/admin-access.decorator';
import { CreateApiTokenDto, DecisionDto, ListChangeRequestsQueryDto, ListEventsQueryDto } from '../dto/admin.dto';
import { ConfirmQueryDto } from '../dto/flag.dto';
import { IdPipe } from '../http/admin-params';
import { AdminResponder } from '../http/admin-responder';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { swagger } from '../optional-packages';
import { ApiTokenAdminService } from '../services/api-token-admin.service';
import { ChangeRequestAdminService } from '../services/change-request-admin.service';
import { EventAdminService } from '../services/event-admin.service';
import {
  ApiAdminErrors,
  ApiTokenListModel,
  ApiTokenModel,
  ChangeRequestListModel,
  ChangeRequestModel,
  CreatedApiTokenModel,
  EventPageModel,
} from '../views/response-models';
import { ApiAdminBody, ApiAdminParam, ApiAdminQuery } from '../dto/field.decorator';
import { AdminController } from './admin-controller.decorator';

const { ApiCreatedResponse, ApiOkResponse, ApiOperation } = swagger;

/** The audit log. */
@AdminController('events', 'audit log')
export class EventsAdminController {
  constructor(
    private readonly events: EventAdminService,
    private readonly responder: AdminResponder,
  ) {}

  @Get()
  @AdminAccess('read')
  @ApiOperation({
    summary: 'Audit log',
    description:
      'Every applied change, recorded in the same transaction: newest first, filtered by flag, environment, type (comma-separated), actor and time; `nextCursor` pages.',
  })
  @ApiOkResponse({ type: EventPageModel })
  @ApiAdminErrors(400)
  @ApiAdminQuery(ListEventsQueryDto)
  async list(
    @Query() query: ListEventsQueryDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.events.list(query, principal));
  }
}

/** API tokens (an admin token for every environment manages them). */
@AdminController('api-tokens', 'API tokens')
export class ApiTokensAdminController {
  constructor(
    private readonly tokens: ApiTokenAdminService,
    private readonly responder: AdminResponder,
  ) {}

  @Get()
  @AdminAccess('manage')
  @ApiOperation({ summary: 'List API tokens', description: 'Never their secrets.' })
  @ApiOkResponse({ type: ApiTokenListModel })
  @ApiAdminErrors()
  async list(@Res() res: unknown): Promise<void> {
    this.responder.send(res, await this.tokens.list());
  }

  @Post()
  @AdminAccess('manage')
  @ApiOperation({
    summary: 'Create an API token',
    description:
      'Type `admin` or `read-only`, bound to environments (or `*`), optionally expiring. The secret is in this answer only; only its SHA-256 is stored.',
  })
  @ApiCreatedResponse({ type: CreatedApiTokenModel })
  @ApiAdminErrors(400, 404, 413, 415, 415)
  @ApiAdminBody(CreateApiTokenDto)
  async create(
    @Body() dto: CreateApiTokenDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.tokens.create(dto, principal));
  }

  @Delete(':id')
  @AdminAccess('manage')
  @ApiAdminParam('id', 'id')
  @ApiOperation({ summary: 'Revoke an API token', description: 'Refused from now on; kept in the list as revoked.' })
  @ApiOkResponse({ type: ApiTokenModel })
  @ApiAdminErrors(400, 404)
  @ApiAdminQuery(ConfirmQueryDto)
  async revoke(
    @Param('id', IdPipe) id: string,
    @Query() query: ConfirmQueryDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.tokens.revoke(id, query.reason, principal));
  }
}

/** Change requests: changes to environments that require approval. */
@AdminController('change-requests', 'change requests')
export class ChangeRequestsAdminController {
  constructor(
    private readonly requests: ChangeRequestAdminService,
    private readonly responder: AdminResponder,
  ) {}

  @Get()
  @AdminAccess('read')
  @ApiOperation({
    summary: 'List change requests',
    description: 'Newest first; filtered by status, environment and flag.',
  })
  @ApiOkResponse({ type: ChangeRequestListModel })
  @ApiAdminErrors(400)
  @ApiAdminQuery(ListChangeRequestsQueryDto)
  async list(
    @Query() query: ListChangeRequestsQueryDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.requests.list(query, principal));
  }

  @Get(':id')
  @AdminAccess('read')
  @ApiAdminParam('id', 'id')
  @ApiOperation({
    summary: 'Get a change request',
    description: 'With its preview (before/after) and the writes approval applies.',
  })
  @ApiOkResponse({ type: ChangeRequestModel })
  @ApiAdminErrors(400, 404)
  async get(
    @Param('id', IdPipe) id: string,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.requests.get(id, principal));
  }

  @Post(':id/approve')
  @AdminAccess('write')
  @ApiAdminParam('id', 'id')
  @ApiOperation({
    summary: 'Approve and apply a change request',
    description:
      'By another token or user than who asked (403 otherwise). Applied in the same transaction; if what it changes moved since, 409 and it stays pending.',
  })
  @ApiOkResponse({ type: ChangeRequestModel })
  @ApiAdminErrors(400, 404, 409, 415, 415)
  @ApiAdminBody(DecisionDto)
  async approve(
    @Param('id', IdPipe) id: string,
    @Body() dto: DecisionDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.requests.approve(id, dto, principal));
  }

  @Post(':id/reject')
  @AdminAccess('write')
  @ApiAdminParam('id', 'id')
  @ApiOperation({
    summary: 'Reject a change request',
    description: 'Nothing is applied (its author may withdraw it this way).',
  })
  @ApiOkResponse({ type: ChangeRequestModel })
  @ApiAdminErrors(400, 404, 409, 415, 415)
  @ApiAdminBody(DecisionDto)
  async reject(
    @Param('id', IdPipe) id: string,
    @Body() dto: DecisionDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.requests.reject(id, dto, principal));
  }
}
