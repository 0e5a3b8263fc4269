// The OpenAPI 3.1 document of the API, generated from the operation registry and API_VERSIONS: one
// path item per operation per version that mounts it, at its alias path (`<prefix>/<resource>/<action>`,
// served next to the EnOS `?action=` form; see operationObject.ts). Pure: no fastify. `gaps` lists operations
// lacking docs, examples or response schemas (the OpenAPI test fails on any; the service still starts).
import { failure } from '../envelope.js';
import { ERRORS, apiError } from '../errors.js';
import type { AnyOperation, VersionSpec } from '../operation.js';
import { OPERATIONS } from '../operations/index.js';
import { API_VERSIONS } from '../versions.js';
import { EXAMPLE_REQUEST_ID, errorCatalogueTable, errorEnvelope, nonOkStatuses } from './envelopes.js';
import { EXAMPLE_IDENTITY } from './examples.js';
import { infoDescription } from './intro.js';
import { SECURITY_SCHEME_NAMES, buildOperation, componentName, pathKey, plain, statusResponseName, tagName, type Json } from './operationObject.js';
import { WorkFlowDir } from './structs.js';

export interface OpenApiBuild {
  document: Json;
  gaps: string[];
}

/** Same rule as mountVersion: an operation without `versions` is in every version. */
const mountedIn = (op: AnyOperation, v: VersionSpec) => !op.versions || op.versions.includes(v.name);

function identityParameter(name: 'userId' | 'orgId'): Json {
  const what = name === 'userId' ? 'the acting user (contract §2)' : 'the organization of that user';
  return {
    name,
    in: 'query',
    required: true,
    description: `${what}; must name an existing user of that organization, else 62101. Examples use what a fresh \`npm start\` creates.`,
    schema: { type: 'string', minLength: 1 },
    example: EXAMPLE_IDENTITY[name],
  };
}

function components(versions: readonly VersionSpec[]): Json {
  const schemas: Json = { WorkFlowDir: plain(WorkFlowDir) };
  const responses: Json = {};
  for (const v of versions) {
    schemas[componentName(v, 'ErrorEnvelope')] = plain(errorEnvelope(v));
    for (const [status, keys] of nonOkStatuses()) {
      responses[statusResponseName(v, status)] = {
        description: `HTTP ${status} with the ${v.name} error envelope: ${keys.map((k) => `\`${k}\` (${ERRORS[k].code})`).join(', ')}.`,
        content: {
          'application/json': {
            schema: { $ref: `#/components/schemas/${componentName(v, 'ErrorEnvelope')}` },
            example: failure(v, apiError(keys[0], status === 404 ? `GET ${v.prefix}/flow` : ''), EXAMPLE_REQUEST_ID),
          },
        },
      };
    }
  }
  return { schemas, parameters: { userId: identityParameter('userId'), orgId: identityParameter('orgId') }, responses, securitySchemes: securitySchemes() };
}

/** The gateway's signature headers (contract §9): all three on every signed request. */
function securitySchemes(): Json {
  const header = (name: string, description: string): Json => ({ type: 'apiKey', in: 'header', name, description });
  const [token, timestamp, signature] = SECURITY_SCHEME_NAMES;
  return {
    [token]: header('apim-accesstoken', 'the access token from `POST /apim-token-service/v2.0/token/get` `{appKey, encryption, timestamp}`'),
    [timestamp]: header('apim-timestamp', 'epoch milliseconds of this request, never repeated'),
    [signature]: header(
      'apim-signature',
      'lowercase hex SHA-256 of accessToken + the query\'s key+value pairs sorted by key (values URL-decoded) + the body as sent + timestamp + appSecret; computed per request, so Swagger UI cannot send it (use a service started with --no-auth)',
    ),
  };
}

export function buildOpenApiDocument(ops: readonly AnyOperation[] = OPERATIONS, versions: readonly VersionSpec[] = API_VERSIONS): OpenApiBuild {
  const paths: Record<string, Json> = {};
  const tags: Json[] = [];
  const gaps = new Set<string>();
  for (const v of versions) {
    for (const op of ops.filter((o) => mountedIn(o, v))) {
      const key = pathKey(op, v);
      const method = op.method.toLowerCase();
      const built = buildOperation(op, v);
      built.gaps.forEach((g) => gaps.add(g));
      const item = (paths[key] ??= {});
      if (item[method]) gaps.add(`${op.name}: ${op.method} ${key} is declared twice in ${v.name}`);
      item[method] = built.operation;
      const tag = tagName(v, op.resource);
      if (!tags.some((t) => t.name === tag)) tags.push({ name: tag, description: `\`${v.prefix}/${op.resource}\` (${v.name})` });
    }
  }
  const document: Json = {
    openapi: '3.1.0',
    info: {
      title: 'batchflow: EnOS Batch Processing Service API (V2.1 and V2.0)',
      version: versions.map((v) => v.name).join(', '),
      description: `${infoDescription(versions)}\n\n## Error catalogue\n\n${errorCatalogueTable()}`,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'this service (the paths carry the API version prefixes)' }],
    tags,
    paths,
    components: components(versions),
  };
  return { document, gaps: [...gaps] };
}
