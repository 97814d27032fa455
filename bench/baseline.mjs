// The yardstick: the barest node:http server this machine can run, answering {"ok":true}.
// Every hub figure in `npm run bench` is also given as a ratio to this one, measured in the same run.
import http from 'node:http';

const body = '{"ok":true}';
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
