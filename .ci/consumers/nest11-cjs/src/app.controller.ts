import { Controller, Get, Param, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { FeatureFlag, RequestEnvironment, getRequestEnvironment } from 'nestjs-feature-flags';
import { AppService } from './app.service';

@Controller()
export class AppController {
  constructor(private readonly appService: AppService) {}

  @Get('environment')
  environment(@RequestEnvironment() environment: string, @Req() request: FastifyRequest) {
    return { environment, fromRequest: getRequestEnvironment(request) };
  }

  @Get('checkout')
  @FeatureFlag('new-checkout')
  checkout() {
    return { checkout: 'new' };
  }

  @Get('flags/:key')
  flag(@Param('key') key: string) {
    return this.appService.flag(key);
  }
}
