// The fan-out yardstick: a bare `ws` server that, on POST /broadcast?id=X, sends one frame the size
// of a pending_offer (with X in it) to every authenticated socket. `npm run bench` measures it the
// same way as the hub's match (call to last frame received, same client), in the same run.
import http from 'node:http';
import { WebSocketServer } from 'ws';

const sockets = new Set();
const filler = 'Summarise the attached notes in three lines. '.repeat(8);
const server = http.createServer((req, res) => {
  req.resume();
  const id = new URL(req.url, 'http://x').searchParams.get('id') ?? '';
  const frame = JSON.stringify({ type: 'pending_offer', offerId: id, message: `New task offer ${id}. ${filler}`, task: { id, title: 'fan-out' }, expiresAt: new Date().toISOString() });
  for (const ws of sockets) ws.send(frame);
  const body = JSON.stringify({ ok: true, sent: sockets.size });
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
});
const wss = new WebSocketServer({ server, path: '/agent-ws', perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.once('message', () => {
    sockets.add(ws);
    ws.send('{"type":"auth_ok"}');
  });
  ws.on('close', () => sockets.delete(ws));
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`listening on http://127.0.0.1:${port} (agents: ws://127.0.0.1:${port}/agent-ws)\n`);
});
process.on('SIGTERM', () => process.exit(0));
