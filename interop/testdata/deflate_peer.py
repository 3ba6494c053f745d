#!/usr/bin/python3
"""Python `websockets` (Debian's python3-websockets 10.4) as a
permessage-deflate peer of lws for Go. Compression is on, as it is by
default in websockets. Usage:

  deflate_peer.py client URL [NAME=VALUE...] SIZE...
      send a TEXT (varied text) and a BINARY (random bytes) message of each
      size, check each echo; print one JSON line with the negotiated
      extension and the results. NAME=VALUE arguments configure the
      ClientPerMessageDeflateFactory (server_max_window_bits=10, ...; the
      offer has client_max_window_bits unless client_max_window_bits=0)
  deflate_peer.py server [NAME=VALUE...]
      an echo server on 127.0.0.1, a free port; prints "listening PORT",
      then "extensions <response header> | offered <request header>" per
      connection; runs until killed. Without arguments compression is
      websockets' default for servers; NAME=VALUE arguments configure a
      ServerPerMessageDeflateFactory instead (server_no_context_takeover=1,
      client_max_window_bits=9, require_client_max_window_bits=1, ...)
"""
import asyncio
import json
import os
import random
import sys

import websockets
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)

TIMEOUT = 60


def text_payload(size, seed):
    rnd = random.Random(seed)
    words = ["lws", "deflate", "h\u00e9llo", "w\u00f6rld", "\u20ac", "window", "frame", "\U0001F600", "0123456789"]
    out = []
    n = 0
    while n < size:
        w = rnd.choice(words) + " "
        b = len(w.encode())
        if n + b > size:
            w = "x" * (size - n)
            b = size - n
        out.append(w)
        n += b
    return "".join(out)


async def client(url, args):
    settings = {"client_max_window_bits": True}
    settings.update(parse_settings([a for a in args if "=" in a]))
    if settings["client_max_window_bits"] is False:
        del settings["client_max_window_bits"]
    sizes = [int(a) for a in args if "=" not in a]
    factory = ClientPerMessageDeflateFactory(compress_settings={"memLevel": 5}, **settings)
    results = []
    async with websockets.connect(url, max_size=None, open_timeout=TIMEOUT, ping_interval=None,
                                  extensions=[factory], compression=None) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        for i, size in enumerate(sizes):
            for binary in (False, True):
                msg = os.urandom(size) if binary else text_payload(size, i)
                await ws.send(msg)
                got = await asyncio.wait_for(ws.recv(), TIMEOUT)
                results.append({"size": size, "binary": binary, "same_type": isinstance(got, bytes) == binary,
                                "equal": got == msg, "got_len": len(got)})
        await ws.close(1000, "done")
        return {"extension": ext, "negotiated": [repr(e) for e in ws.extensions],
                "results": results, "close_code": ws.close_code}


def parse_settings(args):
    """Factory arguments from NAME=VALUE: values are integers, 0 and 1
    meaning False and True for the flags and client_max_window_bits."""
    kwargs = {}
    for a in args:
        name, value = a.split("=", 1)
        value = int(value)
        if name.endswith("context_takeover") or name.startswith("require_") or (
                name == "client_max_window_bits" and value in (0, 1)):
            value = bool(value)
        kwargs[name] = value
    return kwargs


def server_factory(args):
    """A ServerPerMessageDeflateFactory from NAME=VALUE arguments."""
    return ServerPerMessageDeflateFactory(compress_settings={"memLevel": 5}, **parse_settings(args))


async def server(args):
    async def echo(ws, path=None):
        print("extensions", ws.response_headers.get("Sec-WebSocket-Extensions", ""),
              "| offered", ws.request_headers.get("Sec-WebSocket-Extensions", ""), flush=True)
        try:
            async for msg in ws:
                await ws.send(msg)
        except websockets.ConnectionClosed:
            pass

    # Without arguments, websockets' own default for servers
    # (compression="deflate"): server_max_window_bits=12,
    # client_max_window_bits=12.
    options = {}
    if args:
        options = {"extensions": [server_factory(args)], "compression": None}
    async with websockets.serve(echo, "127.0.0.1", 0, max_size=None, ping_interval=None, **options) as srv:
        print("listening", srv.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


def main():
    if sys.argv[1] == "client":
        try:
            res = asyncio.run(client(sys.argv[2], sys.argv[3:]))
        except Exception as e:  # reported to the Go test as JSON
            res = {"error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(res))
    elif sys.argv[1] == "server":
        asyncio.run(server(sys.argv[2:]))
    else:
        raise SystemExit("usage: deflate_peer.py client URL [NAME=VALUE...] SIZE... | server [NAME=VALUE...]")


if __name__ == "__main__":
    main()
