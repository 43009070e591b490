"""The lowest floor: an HTTP/1.1 byte relay on asyncio streams, no framework, no HTTP library.

    python benches/floor.py --port P --upstream http://127.0.0.1:U

Each client connection gets its own upstream connection (opened on its first request, kept
alive, opened again once if the upstream closed it while idle). A request is read up to its
Content-Length and written upstream unchanged; the answer is relayed as it arrives, framed by its
own Content-Length or chunked encoding, never re-encoded.
It is what the sockets and the event loop cost: no parsing beyond framing, no masking. A benchmark
set-up only (it trusts its two peers: loopback, the fake upstream and the driver).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from urllib.parse import urlsplit

LIMIT = 1 << 24


async def _head(reader: asyncio.StreamReader) -> tuple[bytes, dict[bytes, bytes]]:
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.split(b"\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name:
            fields[name.strip().lower()] = value.strip()
    return raw, fields


async def _relay_body(fields: dict[bytes, bytes], src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
        while True:
            size_line = await src.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            data = await src.readexactly(size + 2)
            dst.write(size_line + data)
            await dst.drain()
            if size == 0:
                return
    n = int(fields.get(b"content-length", b"0"))
    while n > 0:
        data = await src.read(min(n, 1 << 20))
        if not data:
            raise ConnectionError("upstream closed mid-body")
        dst.write(data)
        n -= len(data)
    await dst.drain()


async def _serve(host: str, port: int, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
    up: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    try:
        while True:
            try:
                raw, fields = await _head(client_r)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            body = await client_r.readexactly(int(fields.get(b"content-length", b"0")))
            for attempt in (1, 2):
                fresh = up is None
                if up is None:
                    up = await asyncio.open_connection(host, port, limit=LIMIT)
                    up[1].get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                up_r, up_w = up
                try:
                    up_w.write(raw + body)
                    await up_w.drain()
                    back, back_fields = await _head(up_r)
                    break
                except (asyncio.IncompleteReadError, ConnectionError):
                    up[1].close()
                    up = None
                    if fresh or attempt == 2:  # only a kept-alive connection the upstream closed is retried
                        raise
            client_w.write(back)
            if raw.split(b" ", 1)[0] != b"HEAD" and not back.startswith((b"HTTP/1.1 204", b"HTTP/1.1 304")):
                await _relay_body(back_fields, up_r, client_w)
            else:
                await client_w.drain()
    finally:
        if up is not None:
            up[1].close()
        client_w.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    u = urlsplit(args.upstream)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    server = await asyncio.start_server(
        lambda r, w: _serve(host, port, r, w), "127.0.0.1", args.port, limit=LIMIT, backlog=4096
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
