// The document's info.description: how to read this OpenAPI document (the alias paths that stand for
// the action-routed operations), the envelopes, HTTP statuses, identity and input conventions
// (contract §1, §2, §7; ref §2, §10). The error catalogue table is appended by document.ts.
import type { VersionSpec } from '../operation.js';

export function infoDescription(versions: readonly VersionSpec[]): string {
  const prefixes = versions.map((v) => `- **${v.name}**: \`${v.prefix}\` (envelope \`${v.envelope === 'v2.0' ? '{status,msg:"Success",requestId,data}' : '{code,msg:"OK",requestId,data}'}\`, pages from ${v.pageBase})`).join('\n');
  return `batchflow speaks the EnOS Batch Processing Service API. Both versions are served at once:

${prefixes}

## How operations are keyed here: alias paths (extension)

The EnOS API is RPC-style: an operation is chosen by **(method, path, \`action\` query parameter)**, and
several operations share one method and path (\`GET /flows\` is get, export, delete, getMyFlow,
loadForEdit). That **\`?action=\` form is the primary one** and works unchanged:
\`GET /batch-processing-service/v2.1/flows?action=get&userId=u-admin&orgId=o-default&flowId=2841\`.
OpenAPI keys operations by path and method only, so this document describes the **alias path** the
service also serves for every operation, \`<prefix>/<resource>/<action>\`:
\`GET /batch-processing-service/v2.1/flows/get?userId=u-admin&orgId=o-default&flowId=2841\`. Same
handler, inputs, signature (over the query, which has no \`action\` on an alias path), envelope and
errors; an \`action\` query parameter on an alias path may only repeat the path's. Every operation names
its EnOS form in \`x-enos-action\` \`{method, path, action, url}\` (and \`x-batchflow-route\`).
operationIds are the operation names in V2.1 (\`getFlow\`) and \`<operation>_v2_0\` in V2.0; tags are
\`<version> <resource>\`. Generated clients (openapi-typescript + openapi-fetch, ...) call the alias paths.

## Envelope and HTTP status (contract §1)

Every reply is the envelope of its version. Success: code/status 0, \`data\` as documented per
operation (void operations answer \`"data": ""\`). Errors: the same envelope with a non-zero code, \`data\`
null and a message naming the field or id at fault. **HTTP 200 for every business outcome, errors
included**: read \`code\` (V2.1) or \`status\` (V2.0). Other statuses, still with the envelope: 404 no such
path or method, 413 body too large (1 MiB by default), 401 authentication failed (gateway codes 1001-1204),
429 rate limited (1006), 431 headers too large, 400 malformed HTTP, 503 shutting down. An unknown or
missing \`action\` on a known path answers 62102 naming it.

## Authentication (contract §9)

Every operation but the two \`/time\` ones must be signed: get a token with
\`POST /apim-token-service/v2.0/token/get\` \`{appKey, encryption, timestamp}\` (encryption = lowercase hex
SHA-256 of appKey + timestamp + appSecret), then send \`apim-accesstoken\`, \`apim-timestamp\` (epoch ms)
and \`apim-signature\` = lowercase hex SHA-256 of accessToken + the query's key+value pairs sorted by key
(values URL-decoded) + the body as sent + timestamp + appSecret. Swagger UI cannot compute that per
request: "Try it out" works against a service started with \`--no-auth\` (loopback only). \`batchflow call\`
signs from the command line; docs/security.md has a worked example.

## Identity (contract §2)

Every operation except the two \`/time\` ones takes \`userId\` and \`orgId\` in the query: an existing user
of that organization (else 62101). Owners of a workflow may do everything with it; visitors and other
members of its organization may read it; a workflow of another organization answers 62102 "not found".
A locked account gets 62105 on every write. The examples use \`u-admin\` / \`o-default\`, which the first
\`npm start\` creates, so "Try it out" works against a fresh service.

## Inputs and outputs (contract §1)

Ids and times accept a number or a numeric string; \`graph\`, \`parameters\`, \`runMode\` and \`flowJson\`
accept a JSON value or its JSON text; snake_case keys are accepted for camelCase ones. Times in
requests are epoch milliseconds. In responses \`graph\`, \`parameters\` and \`runMode\` are JSON text
(the schemas give their content as \`contentSchema\`), date strings are in the service time zone (Get
Timezone) and each has an epoch-ms twin (\`triggerTimeMs\`, ...). Instance ids are
\`<flowId>-<yyyyMMddHHmm>00\`, task instance ids \`<taskId>-<same 14 digits>\`.

## Paging (contract §7)

\`pagination\` \`{pageNo, pageSize, sorters:[{field, order}]}\`: pages start at 1 in V2.1 and at 0 in V2.0;
pageSize 1..1000, default 10; sort fields are listed per operation, ASC by default.

## V2.0 differences (ref §10)

No Get Task Instance and no Trigger Flow From Task; \`searchValue\` instead of \`expression\` (both
accepted); the \`status\`/\`"Success"\` envelope; flows may carry \`alertTo\` and \`appId\`, exported tasks
\`waitCode\`.`;
}
