// Node's ws (Debian's node-ws 8) as a permessage-deflate peer of lws for
// Go, perMessageDeflate on. Usage (NODE_PATH=/usr/share/nodejs):
//
//   node deflate_peer.js client URL SIZE...
//       send a TEXT (varied text) and a BINARY (random bytes) message of
//       each size, check each echo; print one JSON line with the
//       server's Sec-WebSocket-Extensions answer and the results
//   node deflate_peer.js server [OPTIONS]
//       an echo server on 127.0.0.1, a free port; prints "listening PORT",
//       then "extensions <answer> | offered <request header>" per
//       connection; runs until killed. OPTIONS, a JSON object, are ws's
//       perMessageDeflate options ({"serverMaxWindowBits": 8, ...});
//       without them perMessageDeflate is true
'use strict';
const crypto = require('crypto');
const WebSocket = require('ws');

function textPayload(size, seed) {
  const words = ['lws', 'deflate', 'h\u00e9llo', 'w\u00f6rld', '\u20ac', 'window', 'frame', '\u{1F600}', '0123456789'];
  let s = '';
  let n = 0;
  let x = seed + 1;
  while (n < size) {
    x = (x * 1103515245 + 12345) % 2147483648;
    let w = words[x % words.length] + ' ';
    let b = Buffer.byteLength(w);
    if (n + b > size) { w = 'x'.repeat(size - n); b = size - n; }
    s += w;
    n += b;
  }
  return s;
}

function client(url, sizes) {
  const plan = [];
  sizes.forEach((size, i) => { for (const binary of [false, true]) plan.push({ size, binary, i }); });
  const results = [];
  const ws = new WebSocket(url, { maxPayload: 0, perMessageDeflate: true });
  const timer = setTimeout(() => { console.log(JSON.stringify({ error: 'timeout', results })); process.exit(1); }, 120000);
  let sent;
  function sendNext() {
    if (results.length === plan.length) { ws.close(1000, 'done'); return; }
    const { size, binary, i } = plan[results.length];
    sent = binary ? crypto.randomBytes(size) : textPayload(size, i);
    ws.send(sent, { binary, compress: true });
  }
  ws.on('open', sendNext);
  ws.on('message', (data, isBinary) => {
    const { size, binary } = plan[results.length];
    const got = isBinary ? data : data.toString('utf8');
    const equal = binary ? Buffer.compare(got, sent) === 0 : got === sent;
    results.push({ size, binary, same_type: isBinary === binary, equal, got_len: isBinary ? got.length : Buffer.byteLength(got) });
    sendNext();
  });
  let answer = '';
  ws.on('upgrade', (res) => { answer = res.headers['sec-websocket-extensions'] || ''; });
  ws.on('close', (code) => {
    clearTimeout(timer);
    console.log(JSON.stringify({ extension: answer, results, close_code: code }));
  });
  ws.on('error', (err) => { console.log(JSON.stringify({ error: String(err), results })); process.exit(1); });
}

function server(options) {
  const perMessageDeflate = options ? JSON.parse(options) : true;
  const wss = new WebSocket.Server({ host: '127.0.0.1', port: 0, maxPayload: 0, perMessageDeflate });
  wss.on('listening', () => console.log('listening', wss.address().port));
  // The answer is the response's Sec-WebSocket-Extensions (ws.extensions
  // names the extensions only).
  const answers = new WeakMap();
  wss.on('headers', (headers, req) => {
    const h = headers.find((line) => line.toLowerCase().startsWith('sec-websocket-extensions:'));
    answers.set(req, h ? h.slice(h.indexOf(':') + 1).trim() : '');
  });
  wss.on('connection', (ws, req) => {
    console.log('extensions', answers.get(req), '| offered', req.headers['sec-websocket-extensions'] || '');
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary, compress: true }));
  });
}

const [mode, url, ...sizes] = process.argv.slice(2);
if (mode === 'client') client(url, sizes.map(Number));
else if (mode === 'server') server(url);
else { console.error('usage: deflate_peer.js client URL SIZE... | server [OPTIONS]'); process.exit(2); }
