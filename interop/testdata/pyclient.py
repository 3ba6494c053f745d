#!/usr/bin/python3
"""Python `websockets` (Debian's python3-websockets) as a client of
lws-test-server. Each subcommand runs one scenario and prints one JSON
object on stdout; the Go test asserts on it. Usage: pyclient.py CMD URL ..."""
import asyncio
import json
import sys
import time

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode, NegotiationError

TIMEOUT = 20


async def subproto(url, offered):
    try:
        async with websockets.connect(url, subprotocols=offered.split(","), open_timeout=TIMEOUT) as ws:
            return {"ok": True, "subprotocol": ws.subprotocol}
    except InvalidStatusCode as e:
        return {"ok": False, "status": e.status_code}
    except NegotiationError as e:
        return {"ok": False, "error": str(e)}


async def counter(url, seconds, reset_after):
    """Collects dumb-increment numbers with arrival times; sends reset\\n
    once after reset_after seconds."""
    got = []
    async with websockets.connect(url, subprotocols=["dumb-increment-protocol"], open_timeout=TIMEOUT) as ws:
        start = time.monotonic()
        reset_sent_at = None
        while time.monotonic() - start < seconds:
            if reset_sent_at is None and time.monotonic() - start >= reset_after:
                await ws.send("reset\n")
                reset_sent_at = time.monotonic() - start
            msg = await asyncio.wait_for(ws.recv(), TIMEOUT)
            got.append([time.monotonic() - start, msg])
    return {"messages": got, "reset_at": reset_sent_at}


async def mirror(url, count):
    """Three mirror clients; client 0 sends count messages; every client
    (sender included) reports what it received."""
    socks = [await websockets.connect(url, subprotocols=["lws-mirror-protocol"], open_timeout=TIMEOUT) for _ in range(3)]
    try:
        msgs = ["d #ff0000 %d %d %d %d;" % (i, i + 1, i + 2, i + 3) for i in range(count)]
        for m in msgs:
            await socks[0].send(m)
        out = []
        for s in socks:
            recv = []
            while len(recv) < count:
                recv.append(await asyncio.wait_for(s.recv(), TIMEOUT))
            out.append(recv)
        return {"sent": msgs, "received": out}
    finally:
        for s in socks:
            await s.close()


async def ping(url, payload):
    async with websockets.connect(url, subprotocols=["lws-mirror-protocol"], open_timeout=TIMEOUT) as ws:
        waiter = await ws.ping(payload.encode())
        t0 = time.monotonic()
        await asyncio.wait_for(waiter, TIMEOUT)
        return {"pong": True, "rtt_ms": (time.monotonic() - t0) * 1000}


async def badutf8(url, first, second, compress):
    """Sends a TEXT message whose UTF-8 is broken across two fragments,
    compressed (permessage-deflate, websockets' default) or not."""
    kw = {} if compress else {"compression": None}
    async with websockets.connect(url, subprotocols=["lws-mirror-protocol"], open_timeout=TIMEOUT, **kw) as ws:
        await ws.write_frame(False, 0x1, bytes.fromhex(first))
        if second:
            await ws.write_frame(True, 0x0, bytes.fromhex(second))
        try:
            while True:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
        except ConnectionClosed:
            pass
        return {"close_code": ws.close_code, "close_reason": ws.close_reason}


async def closeecho(url, code, reason):
    async with websockets.connect(url, subprotocols=["lws-mirror-protocol"], open_timeout=TIMEOUT) as ws:
        await ws.close(code, reason)
        return {"close_code": ws.close_code, "close_reason": ws.close_reason}


def main():
    cmd, url, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == "subproto":
        coro = subproto(url, args[0])
    elif cmd == "counter":
        coro = counter(url, float(args[0]), float(args[1]))
    elif cmd == "mirror":
        coro = mirror(url, int(args[0]))
    elif cmd == "ping":
        coro = ping(url, args[0])
    elif cmd == "badutf8":
        coro = badutf8(url, args[0], args[1], args[2] == "compress")
    elif cmd == "closeecho":
        coro = closeecho(url, int(args[0]), args[1])
    else:
        raise SystemExit("unknown command " + cmd)
    print(json.dumps(asyncio.run(coro)))


if __name__ == "__main__":
    main()
