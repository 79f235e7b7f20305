// A minimal h2c server for bench/h2.mjs: `node bench/h2-server.mjs ours|node`.
// Answers /1k and /100k with a fixed body from memory; prints "ready <port>";
// answers the IPC message "rss" with its resident set size.
import http2 from 'node:http2';
import { h2 } from '../dist/index.js';

const bodies = { '/1k': Buffer.alloc(1024, 0x61), '/100k': Buffer.alloc(100 * 1024, 0x62) };
const missing = Buffer.from('not found');
const kind = process.argv[2];

let port;
if (kind === 'ours') {
  const headers = { 'content-type': 'application/octet-stream' };
  const server = h2.createServer({
    handler(stream) {
      const body = bodies[stream.path];
      if (body) stream.respond(200, headers, body);
      else stream.respond(404, {}, missing);
    },
  });
  ({ port } = await server.listen(0, '127.0.0.1'));
} else if (kind === 'node') {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 100 } });
  server.on('stream', (stream, headers) => {
    const body = bodies[headers[':path']];
    if (body) {
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': body.length });
      stream.end(body);
    } else {
      stream.respond({ ':status': 404 });
      stream.end(missing);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
} else {
  console.error(`usage: h2-server.mjs ours|node`);
  process.exit(2);
}
process.on('message', (m) => {
  if (m === 'rss') process.send({ rss: process.memoryUsage().rss });
});
console.log(`ready ${port}`);
// Exit normally on signals so that --cpu-prof can write its profile.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
