// Node's ws (Debian's node-ws) as a client of lws-test-echo: sends a TEXT
// and a BINARY message of each size given, checks each echo, and prints
// one JSON line, with the server's Sec-WebSocket-Extensions answer
// (perMessageDeflate is on, ws's default). Usage: NODE_PATH=/usr/share/nodejs node echo_client.js URL SIZE...
'use strict';
const WebSocket = require('ws');

const [url, ...sizeArgs] = process.argv.slice(2);
const sizes = sizeArgs.map(Number);

function payload(size, binary) {
  if (binary) {
    const b = Buffer.alloc(size);
    for (let i = 0; i < size; i++) b[i] = (i * 7) & 0xff;
    return b;
  }
  // ASCII with multi-byte characters, cut on a character boundary.
  const unit = Buffer.from('abcdefgh\u00e9\u20ac');
  const b = Buffer.alloc(size, 'x');
  let i = 0;
  while (i + unit.length <= size) {
    unit.copy(b, i);
    i += unit.length;
  }
  return b.toString('utf8');
}

const plan = [];
for (const size of sizes) for (const binary of [false, true]) plan.push({ size, binary });
const results = [];
const ws = new WebSocket(url, { maxPayload: 0 });
const timer = setTimeout(() => { console.log(JSON.stringify({ error: 'timeout', results })); process.exit(1); }, 60000);

function sendNext() {
  if (results.length === plan.length) {
    ws.close(1000, 'done');
    return;
  }
  const { size, binary } = plan[results.length];
  ws.send(payload(size, binary), { binary });
}

ws.on('open', sendNext);
ws.on('message', (data, isBinary) => {
  const { size, binary } = plan[results.length];
  const want = payload(size, binary);
  const got = isBinary ? data : data.toString('utf8');
  results.push({
    size, binary,
    same_type: isBinary === binary,
    equal: binary ? Buffer.compare(got, want) === 0 : got === want,
    got_len: data.length,
  });
  sendNext();
});
let extension = '';
ws.on('upgrade', (res) => { extension = res.headers['sec-websocket-extensions'] || ''; });
ws.on('close', (code) => {
  clearTimeout(timer);
  console.log(JSON.stringify({ results, protocol: ws.protocol, extension, close_code: code }));
});
ws.on('error', (err) => {
  clearTimeout(timer);
  console.log(JSON.stringify({ error: String(err), results }));
  process.exit(1);
});
