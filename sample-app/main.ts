import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { setupSwagger } from './swagger';

async function bootstrap(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  const app =
    process.env.HTTP_ADAPTER === 'fastify'
      ? await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter())
      : await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  setupSwagger(app);
  await app.listen(port, '0.0.0.0');
  Logger.log(
    `Sample app listening on http://localhost:${port} (admin API docs: http://localhost:${port}/docs)`,
    'Bootstrap',
  );
}

void bootstrap();
