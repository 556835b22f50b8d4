import { Body, Delete, Get, Param, Post, Query, Res } from '@nestjs/common';
import { AdminAccess, CurrentPrincipal } from '../auth/admin-access.decorator';
import { ConfirmQueryDto } from '../dto/flag.dto';
import { CreateClientKeyDto } from '../dto/client-key.dto';
import { IdPipe } from '../http/admin-params';
import { AdminResponder } from '../http/admin-responder';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { swagger } from '../optional-packages';
import { ClientKeyAdminService } from '../services/client-key-admin.service';
import { ApiAdminErrors, ClientKeyListModel, ClientKeyModel, CreatedClientKeyModel } from '../views/response-models';
import { ApiAdminBody, ApiAdminParam, ApiAdminQuery } from '../dto/field.decorator';
import { AdminController } from './admin-controller.decorator';

const { ApiCreatedResponse, ApiOkResponse, ApiOperation } = swagger;

/**
 * Environment-scoped client keys: the credentials of OFREP clients (front-ends, services in other
 * languages). A key evaluates in its one environment, whatever the request names.
 */
@AdminController('client-keys', 'client keys')
export class ClientKeysAdminController {
  constructor(
    private readonly keys: ClientKeyAdminService,
    private readonly responder: AdminResponder,
  ) {}

  @Get()
  @AdminAccess('read')
  @ApiOperation({
    summary: 'List client keys',
    description: 'The keys of the environments the token may read; never their secrets.',
  })
  @ApiOkResponse({ type: ClientKeyListModel })
  @ApiAdminErrors()
  async list(@CurrentPrincipal() principal: AdminPrincipal, @Res() res: unknown): Promise<void> {
    this.responder.send(res, await this.keys.list(principal));
  }

  @Post()
  @AdminAccess('write')
  @ApiOperation({
    summary: 'Create a client key',
    description:
      'Bound to one environment. The secret is in this answer only; only its SHA-256 is stored. Send it as `X-API-Key` or `Authorization: Bearer` to /ofrep.',
  })
  @ApiCreatedResponse({ type: CreatedClientKeyModel })
  @ApiAdminErrors(400, 404, 413, 415)
  @ApiAdminBody(CreateClientKeyDto)
  async create(
    @Body() dto: CreateClientKeyDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.keys.create(dto, principal));
  }

  @Delete(':id')
  @AdminAccess('write')
  @ApiAdminParam('id', 'id')
  @ApiOperation({
    summary: 'Revoke a client key',
    description: 'Refused (401) from now on; kept in the list as revoked.',
  })
  @ApiOkResponse({ type: ClientKeyModel })
  @ApiAdminErrors(400, 404)
  @ApiAdminQuery(ConfirmQueryDto)
  async revoke(
    @Param('id', IdPipe) id: string,
    @Query() query: ConfirmQueryDto,
    @CurrentPrincipal() principal: AdminPrincipal,
    @Res() res: unknown,
  ): Promise<void> {
    this.responder.send(res, await this.keys.revoke(id, query.reason, principal));
  }
}
