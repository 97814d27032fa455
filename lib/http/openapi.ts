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
};

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
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.doc.summary,
      security: SECURITY[r.doc.auth],
      ...(params.length ? { parameters: params } : {}),
      ...(r.doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.doc.body()) } } } } : {}),
      responses: {
        [status]: { description: 'Success: a JSON body with "ok": true' },
        default: { description: 'An error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
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
