#!/usr/bin/python3
"""Python `websockets` (Debian's python3-websockets) as a peer of
lws-test-echo. Usage:

  echo_peer.py client URL SIZE...   send a TEXT and a BINARY message of each
                                    size, check each echo; print one JSON line
                                    (with the server's extension answer);
                                    compression is websockets' default
  echo_peer.py server               an echo server on 127.0.0.1, a free port;
                                    prints "listening PORT", runs until killed
"""
import asyncio
import json
import sys

import websockets

TIMEOUT = 30


def payload(size, binary):
    if binary:
        cycle = bytes((i * 7) & 0xFF for i in range(256))
        return (cycle * (size // 256 + 1))[:size]
    # ASCII with a two-byte and a three-byte character mixed in, cut to size
    # on a character boundary so every text message is valid UTF-8.
    unit = "abcdefgh\u00e9\u20ac"
    text = (unit * (size // len(unit.encode()) + 1))
    out = text.encode()[:size]
    while True:
        try:
            out.decode()
            break
        except UnicodeDecodeError:
            out = out[:-1]
    return (out + b"x" * (size - len(out))).decode()


async def client(url, sizes):
    results = []
    async with websockets.connect(url, max_size=None, open_timeout=TIMEOUT, ping_interval=None) as ws:
        for size in sizes:
            for binary in (False, True):
                msg = payload(size, binary)
                await ws.send(msg)
                got = await asyncio.wait_for(ws.recv(), TIMEOUT)
                results.append({
                    "size": size,
                    "binary": binary,
                    "same_type": isinstance(got, bytes) == binary,
                    "equal": got == msg,
                    "got_len": len(got),
                })
        subprotocol = ws.subprotocol
        extension = ws.response_headers.get("Sec-WebSocket-Extensions", "")
    return {"results": results, "subprotocol": subprotocol, "extension": extension, "close_code": ws.close_code}


async def server():
    async def echo(ws, path=None):
        async for msg in ws:
            await ws.send(msg)

    async with websockets.serve(echo, "127.0.0.1", 0, max_size=None) as srv:
        port = srv.sockets[0].getsockname()[1]
        print("listening", port, flush=True)
        await asyncio.Future()


def main():
    if sys.argv[1] == "client":
        print(json.dumps(asyncio.run(client(sys.argv[2], [int(s) for s in sys.argv[3:]]))))
    elif sys.argv[1] == "server":
        asyncio.run(server())
    else:
        raise SystemExit("usage: echo_peer.py client URL SIZE... | server")


if __name__ == "__main__":
    main()
