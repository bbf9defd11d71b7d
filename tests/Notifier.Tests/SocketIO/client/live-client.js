// The original TorrentEdge design's client code, nearly verbatim: connect with socket.io-client, authenticate with the
// access token, subscribe to a torrent, listen to the seven events. What differs: the address, token and info-hashes
// come from the test (argv), and every callback prints one JSON line on stdout for the test to read.
//
//   node live-client.js <url> <token> <infoHash[,infoHash...]> [transports, e.g. "websocket" or "polling"]
const { io } = require('socket.io-client');

const [url, token, infoHashes, transports] = process.argv.slice(2);
const print = (event, data) => process.stdout.write(JSON.stringify({
  event, data, at: Date.now(), transport: socket.io.engine ? socket.io.engine.transport.name : null,
}) + '\n');

const socket = io(url, {
  transports: transports ? transports.split(',') : undefined,
  reconnection: false,
  withCredentials: true, // cookies, for a load balancer's sticky sessions when polling
});

socket.on('connect', () => print('connect', { id: socket.id }));
socket.on('connect_error', (err) => print('connect_error', { message: err.message }));
socket.on('disconnect', (reason) => print('disconnect', { reason }));

// --- as in the original design's README ---
socket.emit('authenticate', { token }, (ack) => print('authenticate:ack', ack));
socket.on('authenticated', (data) => print('authenticated', data));
socket.on('error', (error) => print('error', error));

for (const infoHash of infoHashes.split(',').filter(Boolean)) {
  socket.emit('subscribe:torrent', { infoHash }, (ack) => print('subscribe:ack', ack));
}

socket.on('torrent:added', (data) => print('torrent:added', data));
socket.on('torrent:progress', (data) => {
  print('torrent:progress', data); // console.log(`${data.name}: ${data.percentage}% (${data.peers.connected} peers)`)
});
socket.on('torrent:piece', (data) => print('torrent:piece', data));
socket.on('torrent:complete', (data) => print('torrent:complete', data));
socket.on('torrent:seeding', (data) => print('torrent:seeding', data));
socket.on('torrent:error', (data) => print('torrent:error', data));
socket.on('queue:updated', (data) => print('queue:updated', data));
// --- end ---

socket.io.on('open', () => socket.io.engine.on('upgrade', (t) => print('upgrade', { transport: t.name })));

// The test ends the client by closing stdin (or by killing it).
process.stdin.on('data', (line) => {
  const [command, arg] = line.toString().trim().split(' ');
  if (command === 'unsubscribe') socket.emit('unsubscribe:torrent', { infoHash: arg }, (ack) => print('unsubscribe:ack', ack));
  if (command === 'subscribe') socket.emit('subscribe:torrent', { infoHash: arg }, (ack) => print('subscribe:ack', ack));
});
process.stdin.on('end', () => { socket.close(); setTimeout(() => process.exit(0), 100); });
