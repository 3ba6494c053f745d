#!/usr/bin/python3
"""Generates the zlib fixtures of TestInflateZlibWindows: three messages
compressed as RFC 7692 says (raw DEFLATE, sync flush, 00 00 ff ff removed)
by zlib with a window of 2**bits bytes, with context takeover (one
compressor for all three) and without (one per message). Output files
w<bits>-<takeover|reset>.bin hold, per message, a 4-byte big-endian length
and the compressed bytes. message() must match the Go test's."""
import struct
import zlib


def message(i):
    return "".join("line %d of message %d: %s\n" % (k, i, "abcdefghij"[k % 10] * (k % 17)) for k in range(2000)).encode()


for bits in range(9, 16):
    for mode in ("takeover", "reset"):
        out = b""
        c = zlib.compressobj(9, zlib.DEFLATED, -bits, 9)
        for i in range(3):
            if mode == "reset":
                c = zlib.compressobj(9, zlib.DEFLATED, -bits, 9)
            data = c.compress(message(i)) + c.flush(zlib.Z_SYNC_FLUSH)
            assert data.endswith(b"\x00\x00\xff\xff")
            data = data[:-4]
            out += struct.pack(">I", len(data)) + data
        with open("w%d-%s.bin" % (bits, mode), "wb") as f:
            f.write(out)
