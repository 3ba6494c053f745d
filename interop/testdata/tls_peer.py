#!/usr/bin/python3
"""Python `websockets` over wss:// against lws-test-server -s. Usage:

  tls_peer.py URL CAFILE COUNT

Trusts only CAFILE, connects to dumb-increment-protocol and collects COUNT
numbers, then sends one message on lws-mirror-protocol and reads it back;
prints one JSON line."""
import asyncio
import json
import ssl
import sys

import websockets


async def main(url, cafile, count):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    out = {}
    async with websockets.connect(url, ssl=ctx, subprotocols=["dumb-increment-protocol"], open_timeout=30) as ws:
        sslobj = ws.transport.get_extra_info("ssl_object")
        out["version"] = sslobj.version()
        out["alpn"] = sslobj.selected_alpn_protocol()
        out["numbers"] = [await asyncio.wait_for(ws.recv(), 30) for _ in range(count)]
    async with websockets.connect(url, ssl=ctx, subprotocols=["lws-mirror-protocol"], open_timeout=30) as ws:
        msg = "d #00ff00 1 2 3 4;" * 100
        await ws.send(msg)
        out["mirror_ok"] = await asyncio.wait_for(ws.recv(), 30) == msg
        out["mirror_extension"] = ws.response_headers.get("Sec-WebSocket-Extensions", "")
    return out


if __name__ == "__main__":
    try:
        res = asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    except Exception as e:
        res = {"error": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps(res))
