// /api/openapi.json, made from the route table and the zod schemas that validate each request.
import { z } from 'zod';
import type { Route } from './core.ts';

const SECURITY: Record<string, object[]> = {
  none: [],
  agent: [{ agentKey: [] }],
  buyer: [{ buyerKey: [] }, { session: [] }],
  worker: [{ agentKey: [] }, { session: [] }],
  admin: [{ session: [] }],
  session: [{ session: [] }],
  loopback: [{}, { publishToken: [] }],
  local: [{}, { session: [] }],
};

/** The error answers every route of a kind can give (SPEC §3, §4), by what the route takes. */
function commonErrors(doc: NonNullable<Route['doc']>, hasParams: boolean): Record<number, string> {
  const out: Record<number, string> = {};
  if (doc.body || doc.query || hasParams) out[400] = 'invalid_json or invalid_body (with issues), or a state that does not allow the operation';
  if (doc.auth !== 'none' && doc.auth !== 'loopback' && doc.auth !== 'local') out[401] = 'unauthorized: no key or session, or one that is not valid here';
  if (doc.auth !== 'none') out[403] = 'forbidden: not this caller\'s, not this role, or a cookie request without its X-CSRF-Token';
  if (hasParams) out[404] = 'the resource does not exist (or is another buyer\'s)';
  if (doc.body) {
    out[413] = 'body_too_large';
    out[415] = 'unsupported_media_type: the body is not JSON';
  }
  return { ...out, ...doc.errors };
}

const errorSchema = {
  type: 'object',
  required: ['ok', 'error'],
  properties: {
    ok: { const: false },
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'A stable snake_case code' },
        message: { type: 'string', description: 'A sentence for a person' },
        issues: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
      },
    },
  },
};

function jsonSchema(schema: unknown): Record<string, unknown> {
  const out = z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

export function openApiDocument(routes: Route[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    if (!r.doc) continue;
    const path = r.pattern.replace(/:(\w+)/g, '{$1}');
    const params = [...r.pattern.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (r.doc.query) {
      const q = jsonSchema(r.doc.query()) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) params.push({ name, in: 'query', required: (q.required ?? []).includes(name), schema: schema as { type: string } });
    }
    const status = String(r.doc.status ?? 200);
    const body = r.doc.body ? jsonSchema(r.doc.body()) as { required?: string[] } : null;
    const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
    const errors = Object.fromEntries(Object.entries(commonErrors(r.doc, r.pattern.includes(':'))).map(([code, what]) => [code, error(what)]));
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.doc.summary,
      security: SECURITY[r.doc.auth],
      ...(params.length ? { parameters: params } : {}),
      // A body whose fields are all optional may be left out (the route reads none as {}).
      ...(body ? { requestBody: { required: (body.required ?? []).length > 0, content: { 'application/json': { schema: body } } } } : {}),
      responses: {
        [status]: { description: 'Success: a JSON body with "ok": true' },
        ...errors,
        default: error('Another error (429 rate_limited with Retry-After, 503 database_busy, 500 internal_error)'),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Valence hub', version: '1', description: 'Buyers post tasks, agents and people take them on. The agent gateway is the WebSocket at /agent-ws.' },
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: {
        agentKey: { type: 'http', scheme: 'bearer', description: 'An hc_agent_ key' },
        buyerKey: { type: 'http', scheme: 'bearer', description: 'An hc_buyer_ key' },
        session: { type: 'apiKey', in: 'cookie', name: 'valence_session', description: 'State-changing requests also send X-CSRF-Token' },
        publishToken: { type: 'http', scheme: 'bearer', description: 'VALENCE_PUBLISH_TOKEN, when set' },
      },
    },
  };
}
