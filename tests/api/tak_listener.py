"""A loopback TCP listener standing in for a TAK server in the API tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from corridorguard.sharing.cot import parse_cot


class Received:
    """Bytes received by the listener, split into CoT events."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.connections = 0

    def events(self) -> list[bytes]:
        parts = bytes(self.data).split(b"<?xml")
        return [b"<?xml" + p for p in parts if p.strip()]

    def wait_for(self, n: int, timeout: float = 5.0) -> None:
        """Wait until ``n`` events have arrived (the sender has closed its connection)."""
        deadline = time.monotonic() + timeout
        while len(self.events()) < n and time.monotonic() < deadline:
            time.sleep(0.01)

    def uids(self) -> list[str]:
        return [str(parse_cot(e).get("uid")) for e in self.events()]


@contextmanager
def tak_listener() -> Iterator[tuple[str, Received]]:
    """Accept connections on 127.0.0.1 until closed; yields ``(tcp://... url, received)``."""
    got = Received()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            got.connections += 1
            with conn:
                while chunk := conn.recv(65536):
                    got.data.extend(chunk)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield f"tcp://127.0.0.1:{srv.getsockname()[1]}", got
    finally:
        stop.set()
        t.join(5)
        srv.close()
