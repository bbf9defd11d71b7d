// N socket.io-client connections in one node process, each authenticated as the same user; every torrent:added
// carries its publish time (Unix ms) as its name, so each delivery's latency is known. Prints "ready" once all are
// authenticated, then a JSON summary when `expected` deliveries arrived or stdin closes.
//   node fanout-clients.js <url> <clients> <user> <expected> [transports]
const path = require('path');
const { io } = require(path.join(__dirname, '../../tests/Notifier.Tests/SocketIO/client/node_modules/socket.io-client'));

const [url, clients, user, expected, transports] = process.argv.slice(2);
const n = Number(clients);
const latencies = [];
let ready = 0, first = 0, last = 0, errors = 0;
const sockets = [];
const summary = () => {
  latencies.sort((a, b) => a - b);
  const p = (q) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : null;
  process.stdout.write(JSON.stringify({ deliveries: latencies.length, p50: p(0.5), p99: p(0.99), max: p(1), first, last, errors }) + '\n');
  sockets.forEach((s) => s.close());
  setTimeout(() => process.exit(0), 200);
};
for (let i = 0; i < n; i++) {
  const socket = io(url, { forceNew: true, reconnection: false, transports: (transports || 'websocket').split(',') });
  sockets.push(socket);
  socket.emit('authenticate', { user, token: 'benchmark' }, (ack) => {
    if (ack && ack.ok) { if (++ready === n) process.stdout.write('ready\n'); } else { errors++; }
  });
  socket.on('connect_error', () => errors++);
  socket.on('torrent:added', (data) => {
    const now = Date.now();
    if (!first) first = now;
    last = now;
    latencies.push(now - Number(data.name));
    if (latencies.length === Number(expected)) summary();
  });
}
process.stdin.on('end', summary);
process.stdin.resume();
