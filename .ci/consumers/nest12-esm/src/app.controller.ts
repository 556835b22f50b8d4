import { Controller, Get, Param, Req } from '@nestjs/common';
import type { Request } from 'express';
import { FeatureFlag, RequestEnvironment, getRequestEnvironment } from 'nestjs-feature-flags';
import { AppService } from './app.service.js';

@Controller()
export class AppController {
  constructor(private readonly appService: AppService) {}

  @Get('environment')
  environment(@RequestEnvironment() environment: string, @Req() request: Request) {
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
