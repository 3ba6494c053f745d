#!/usr/bin/python3
"""Python `websockets` (Debian's python3-websockets) as a client of
lws-test-fraggle's server. websockets hands over each message whole, however
many frames it came in; for each fragmented message the script sums its
bytes, reads the 4-byte big-endian sum message that follows and reports
both. Usage: pyfraggle.py URL COUNT. Prints one JSON object on stdout:
{"messages": [{"length": n, "sum": s, "server_sum": s2}, ...]}."""
import asyncio
import json
import sys

import websockets

TIMEOUT = 60


async def main(url, count):
    out = []
    async with websockets.connect(url, subprotocols=["fraggle-protocol"], max_size=None,
                                  open_timeout=TIMEOUT) as ws:
        while len(out) < count:
            payload = await asyncio.wait_for(ws.recv(), TIMEOUT)
            trailer = await asyncio.wait_for(ws.recv(), TIMEOUT)
            if not isinstance(payload, bytes) or not isinstance(trailer, bytes) or len(trailer) != 4:
                raise SystemExit("unexpected messages: %r / %r" % (type(payload), trailer[:8]))
            out.append({"length": len(payload), "sum": sum(payload) & 0xFFFFFFFF,
                        "server_sum": int.from_bytes(trailer, "big")})
        await ws.close()
    return {"messages": out}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], int(sys.argv[2])))))
