"""HTTP/1.1 by hand over a socket, for what a client library will not do: a body shorter than its
declared length, a body that trickles in a byte at a time, a client that leaves mid-request."""

from __future__ import annotations

import select
import socket


def open_post(port: int, path: str, headers: dict[str, str], body: bytes, declared: int | None = None) -> socket.socket:
    """Sends a JSON POST's head and `body` (perhaps fewer bytes than `declared`) and returns the
    open socket."""
    lines = [f"POST {path} HTTP/1.1", "host: 127.0.0.1", "content-type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"content-length: {declared if declared is not None else len(body)}")
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return sock


def drip(port: int, path: str, headers: dict[str, str], body: bytes, until: bytes) -> bytes:
    """Sends `body` a byte every 0.2 s after its head until the server answers, then reads the
    answer until `until` is in it (or the server closes). Bounded by the body's length."""
    sock = open_post(port, path, headers, b"", declared=len(body))
    reply = b""
    try:
        for byte in body:
            if select.select([sock], [], [], 0.2)[0]:
                break  # the answer is here: stop sending, so the close cannot reset what it said
            sock.sendall(bytes([byte]))
        sock.settimeout(10)
        while until not in reply and (chunk := sock.recv(65536)):
            reply += chunk
    except OSError:
        pass
    finally:
        sock.close()
    return reply
