import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Serves the OpenAPI document (`/docs-json`) and Swagger UI (`/docs`), on Express or Fastify. */
export function setupSwagger(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Feature flags — admin API')
    .setDescription(
      'Manage flags per environment, promote between environments, clone and compare environments, read the audit log, ' +
        'manage API tokens and approve change requests. Every route needs `Authorization: Bearer <token>`.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
