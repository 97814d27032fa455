// A small scripted OpenAI-compatible model server for the end-to-end test with the real OpenClaw
// gateway. OpenClaw calls GET /v1/models, then POST /v1/chat/completions with stream: true and its tool
// list; we answer in SSE chat.completion.chunk frames, a tool call as delta.tool_calls followed by
// finish_reason "tool_calls", then data: [DONE]. Tool results come back as role "tool" messages.
//
// The script plays an agent that follows the valence skill, deciding each step from the conversation:
//   1. find the "valence" skill in the system prompt's skill list and `read` its SKILL.md;
//   2. take the "### Accept" command from the skill text, fill in the offer message's values, `exec` it;
//   3. take the "### Submit" command, fill in the assignment id and a multi-line deliverable, `exec` it;
//   4. reply with a one-line summary.
// So the commands that run are the skill's own, as shipped.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const MODEL_ID = 'valence-scripted';

/** The deliverable the scripted agent submits: several lines, quotes, shell metacharacters, non-ASCII. */
export function deliverableFor(title: string): string {
  return [
    `Deliverable for "${title}"`,
    '',
    'Summary: the "quick" brown fox\'s report — done.',
    'Shell characters kept as they are: $HOME `uname` $(id) \\ backslash; !history & | > <',
    'Unicode: ünïcödé ✓',
  ].join('\n');
}

export interface Step {
  at: string;
  action: string;
  detail?: unknown;
}

type Msg = { role: string; content?: unknown; tool_calls?: { id: string; function: { name: string; arguments: string } }[]; tool_call_id?: string };

const text = (content: unknown): string => {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p === 'string' ? p : typeof p?.text === 'string' ? p.text : '')).join('\n');
  return '';
};

/** Finds "Label: value" in the offer message. */
const field = (message: string, label: string) => new RegExp(`^${label}:\\s*(.+)$`, 'm').exec(message)?.[1]?.trim() ?? null;

/** The first fenced sh block after a "### <heading>" line of the skill. */
export function skillBlock(skill: string, heading: string): string | null {
  const m = new RegExp(`^### ${heading}\\s*$[\\s\\S]*?^\`\`\`(?:sh|bash)\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(skill);
  return m ? m[1] : null;
}

export class ScriptedModel {
  server: http.Server | null = null;
  port = 0;
  steps: Step[] = [];
  requests: { url: string; body: any }[] = [];

  get baseUrl() {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  async start() {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop() {
    const s = this.server;
    if (!s) return;
    this.server = null;
    await new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections?.();
    });
  }

  private note(action: string, detail?: unknown) {
    this.steps.push({ at: new Date().toISOString(), action, detail });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    let raw = '';
    for await (const c of req) raw += c;
    const url = req.url ?? '';
    if (req.method === 'GET' && url.endsWith('/models')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: MODEL_ID, object: 'model', created: 0, owned_by: 'valence-test' }] }));
      return;
    }
    if (req.method !== 'POST' || !url.endsWith('/chat/completions')) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'invalid JSON' } }));
      return;
    }
    this.requests.push({ url, body });
    const turn = this.decide(body.messages as Msg[], (body.tools ?? []) as { function: { name: string } }[]);
    this.stream(res, turn);
  }

  /** Picks the next move from the conversation so far. */
  private decide(messages: Msg[], tools: { function: { name: string } }[]): { tool?: { name: string; args: Record<string, unknown> }; text?: string } {
    const system = messages.filter((m) => m.role === 'system').map((m) => text(m.content)).join('\n');
    const offerMsg = messages.map((m) => (m.role === 'user' ? text(m.content) : '')).find((t) => t.includes('New Valence offer')) ?? '';
    if (!offerMsg) {
      this.note('no offer in the conversation');
      return { text: 'NO_REPLY' };
    }
    const has = (name: string) => tools.some((t) => t.function?.name === name);
    const results = messages.filter((m) => m.role === 'tool').map((m) => text(m.content));
    const calls = messages.flatMap((m) => m.tool_calls ?? []).map((c) => c.function.name);
    const offerId = field(offerMsg, 'Offer id');
    const bridgeUrl = field(offerMsg, 'Bridge URL');
    const bridgeToken = field(offerMsg, 'Bridge token');
    const title = field(offerMsg, 'Title') ?? '';

    if (calls.length === 0) {
      const loc = /<skill>\s*<name>valence<\/name>[\s\S]*?<location>([^<]+)<\/location>/.exec(system)?.[1];
      if (!loc || !has('read')) {
        this.note('skill not offered', { hasRead: has('read') });
        return { text: 'The valence skill is not available, so I cannot act on this offer.' };
      }
      this.note('read skill', { path: loc });
      return { tool: { name: 'read', args: { path: loc } } };
    }
    const skill = results.find((r) => r.includes('name: valence')) ?? '';
    const fill = (cmd: string) =>
      cmd.replaceAll('<BRIDGE_URL>', bridgeUrl ?? '').replaceAll('<BRIDGE_TOKEN>', bridgeToken ?? 'none').replaceAll('<OFFER_ID>', offerId ?? '');
    if (calls.length === 1) {
      const accept = skillBlock(skill, 'Accept');
      if (!accept || !offerId || !bridgeUrl || !has('exec')) {
        this.note('cannot accept', { accept: !!accept, offerId, bridgeUrl, hasExec: has('exec') });
        return { text: 'The skill or the offer message lacks what I need to accept.' };
      }
      const command = fill(accept);
      this.note('accept', { command });
      return { tool: { name: 'exec', args: { command, title: 'Accept the Valence offer' } } };
    }
    const last = results[results.length - 1] ?? '';
    if (calls.length === 2) {
      const assignmentId = /"assignmentId"\s*:\s*"([^"]+)"/.exec(last)?.[1];
      const submit = skillBlock(skill, 'Submit');
      if (!assignmentId || !submit) {
        this.note('accept failed', { output: last });
        return { text: `Accepting failed: ${last.slice(0, 300)}` };
      }
      const command = fill(submit).replaceAll('<ASSIGNMENT_ID>', assignmentId).replace('<the deliverable>', deliverableFor(title));
      this.note('submit', { command, assignmentId });
      return { tool: { name: 'exec', args: { command, title: 'Submit the Valence deliverable' } } };
    }
    const ok = /"status"\s*:\s*"SUBMITTED"/.test(last) && /HTTP 200/.test(last);
    this.note(ok ? 'done' : 'submit failed', { output: last });
    return { text: ok ? `Submitted the deliverable for "${title}".` : `Submitting failed: ${last.slice(0, 300)}` };
  }

  private stream(res: http.ServerResponse, turn: { tool?: { name: string; args: Record<string, unknown> }; text?: string }) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: MODEL_ID, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
    if (turn.tool) {
      const callId = `call_${Math.random().toString(36).slice(2, 10)}`;
      chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: turn.tool.name, arguments: '' } }] }, null);
      chunk({ tool_calls: [{ index: 0, function: { arguments: JSON.stringify(turn.tool.args) } }] }, null);
      chunk({}, 'tool_calls');
    } else {
      chunk({ role: 'assistant', content: turn.text ?? '' }, null);
      chunk({}, 'stop');
    }
    res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: MODEL_ID, choices: [], usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 } })}\n\n`);
    res.write('data: [DONE]\n\n');
    res.end();
  }
}
