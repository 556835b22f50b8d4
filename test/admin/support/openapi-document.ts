import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/** The OpenAPI document of an app's admin API, as the sample app serves it on /docs-json. */
export function adminDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder().setTitle('Feature flags — admin API').setVersion('1').addBearerAuth().build();
  return SwaggerModule.createDocument(app, config);
}
