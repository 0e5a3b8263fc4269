// Serves the generated OpenAPI document at GET /openapi.json and Swagger UI at /docs (assets from the
// installed @fastify/swagger-ui package: nothing is fetched at run time). Both sit outside the API
// prefixes: no identity, and the app's 404 handler and error envelope still answer everything else.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { buildOpenApiDocument } from './document.js';

export const OPENAPI_JSON_PATH = '/openapi.json';
export const DOCS_PREFIX = '/docs';

// The registry is fixed for the life of the process: build the document once, not per app.
let cached: ReturnType<typeof buildOpenApiDocument>['document'] | undefined;

export async function openApiPlugin(app: FastifyInstance): Promise<void> {
  // Static mode: the document comes from the operation registry (document.ts), one path item per
  // operation at its alias path; dynamic mode would also list the action-constrained EnOS routes.
  const document = (cached ??= buildOpenApiDocument().document);
  await app.register(fastifySwagger, { mode: 'static', specification: { document: document as never } });
  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { deepLinking: true, docExpansion: 'list', filter: true, displayOperationId: true, tryItOutEnabled: true, defaultModelsExpandDepth: 0 },
  });
  app.get(OPENAPI_JSON_PATH, { schema: { hide: true } }, async () => app.swagger());
}
