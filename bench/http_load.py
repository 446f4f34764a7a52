"""A cheap HTTP/1.1 load generator for the benches: asyncio over raw sockets, nothing to install.

The requests are built and signed before the clock starts, so that the client
spends its CPU on sending and reading only, and leaves the server the cores it
is measured on. Each client keeps its connection alive while the server allows
it and reconnects when the server closes it (gunicorn's sync workers close after
every response), or after ``reconnect_every`` requests: a gthread worker keeps a
connection for its whole life, and the clients connecting all at once at the start
could all land on one worker, one core busy and the other idle for the whole run.
Connecting again while the workers are busy lets the idle one take its share. Of
the answer it reads the status line, Content-Length and Connection; the body is
read and dropped.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Iterable
from dataclasses import dataclass, field


class ProtocolError(Exception):
    """An answer this client cannot read (no Content-Length on a kept-alive connection, chunked, garbage)."""


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    elapsed: float = 0.0
    cpu_seconds: float = 0.0
    connections: int = 0


def build_request(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Connection(asyncio.Protocol):
    """One keep-alive connection; ``send`` returns (status, server keeps the connection)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._try_complete()

    def eof_received(self) -> bool:
        self.closed = True
        self._try_complete(at_eof=True)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self._try_complete(at_eof=True)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionResetError("the server closed the connection before answering"))

    def _try_complete(self, at_eof: bool = False) -> None:
        if self.waiter is None or self.waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).split(b"\r\n")
        try:
            status = int(head[0].split(b" ", 2)[1])
        except (IndexError, ValueError):
            self.waiter.set_exception(ProtocolError(f"bad status line {head[0][:80]!r}"))
            return
        length = None
        keep_alive = head[0].startswith(b"HTTP/1.1")
        for line in head[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                keep_alive = value.strip().lower() == b"keep-alive" or (keep_alive and value.strip().lower() != b"close")
            elif name == b"transfer-encoding":
                self.waiter.set_exception(ProtocolError("chunked answers are not read by this client"))
                return
        if length is None:
            if not at_eof:
                return
            length, keep_alive = len(self.buffer) - end - 4, False
        if len(self.buffer) < end + 4 + length:
            return
        del self.buffer[: end + 4 + length]
        self.waiter.set_result((status, keep_alive))

    async def send(self, request: bytes) -> tuple[int, bool]:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


async def _run(
    host: str, port: int, requests: list[bytes], concurrency: int, timeout: float, reconnect_every: int | None, result: Result
) -> None:
    loop = asyncio.get_running_loop()
    latencies: list[float | None] = [None] * len(requests)
    statuses = [0] * len(requests)
    following = iter(range(len(requests)))

    async def client() -> None:
        connection: _Connection | None = None
        sent = 0
        for index in following:
            started = time.perf_counter()
            if connection is None or connection.closed:
                _, connection = await loop.create_connection(_Connection, host, port)
                result.connections += 1
                sent = 0
            status, keep_alive = await asyncio.wait_for(connection.send(requests[index]), timeout)
            latencies[index] = time.perf_counter() - started
            statuses[index] = status
            sent += 1
            if not keep_alive or sent == reconnect_every:
                connection.transport.close()
                connection = None
        if connection is not None:
            connection.transport.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.latencies = [latency for latency in latencies if latency is not None]
    result.statuses = statuses


def fire(
    host: str, port: int, requests: Iterable[bytes], concurrency: int, timeout: float = 30, reconnect_every: int | None = None
) -> Result:
    """Sends every request once, ``concurrency`` at a time; latency includes the connect when there was one."""
    requests = list(requests)
    result = Result()
    cpu_before = _own_cpu()
    started = time.perf_counter()
    asyncio.run(_run(host, port, requests, concurrency, timeout, reconnect_every, result))
    result.elapsed = time.perf_counter() - started
    result.cpu_seconds = _own_cpu() - cpu_before
    return result


def _own_cpu() -> float:
    # This thread's only: the bench may read /proc from another one meanwhile.
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime + usage.ru_stime
