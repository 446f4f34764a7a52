"""The live screens of bench/live_screens.py with server push: each screen's server-sent event streams.

Each live part of a screen (its list; for a third of the screens an order page too)
listens on the Procfile's stream process (``/e/<id>/orders/live/stream/``,
``/e/<id>/orders/<order>/live/stream/``) with the web's session cookie, and refreshes
as static/js/live_stream.js and htmx make the page do:

- with its stream open: one refresh GET when it opens, one on each ``changed``
  event, and htmx's 3 s tick let through only when the last refresh is 30 s old;
- without: the 3 s tick polls as without push;
- the EventSource opens the stream again ``retry`` ms after it ended or its connection
  failed; on any other answer than an event stream (204: not allowed yet, no grant)
  it gives up, and the page makes a new one after a refresh, at most every 30 s;
- refreshes of one part are sent one at a time, with one more queued at most behind
  the one in flight (htmx's default sync, "queue first"); further ones are dropped.

The refresh GETs go out through ``refresh(at, screen, kind, reason, answered)``, the
bench's pool of keep-alive connections. A stream is a raw asyncio connection whose
chunked body is read as an EventSource reads ``text/event-stream``.
"""

from __future__ import annotations

import asyncio
import random
import re
import shlex
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

POLL_SECONDS = 3.0
# The page refreshes with its stream open at least once within a time drawn in this range after each refresh, and
# opens a stream again at most this often after one gave up (static/js/live_stream.js).
SAFETY_SECONDS = (20.0, 40.0)
RETRY_SECONDS = 30.0
# EventSource's reconnection delay until the stream sets its own with "retry:".
RETRY_MS = 3000
LINE_END = re.compile(rb"\r\n|\r|\n")


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """An HTTP/1.1 answer's status and headers (names in lower case)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def body_pieces(reader: asyncio.StreamReader, headers: dict[str, str]) -> AsyncIterator[bytes]:
    """A body as it arrives, chunk by chunk when chunked, until its end or the connection's."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16):
            piece = await reader.readexactly(size + 2)
            yield piece[:-2]
        while await reader.readuntil(b"\r\n") != b"\r\n":
            pass  # trailer fields, up to the blank line that ends the body
        return
    while piece := await reader.read(65536):
        yield piece


class EventStream:
    """``text/event-stream`` parsed as the HTML standard says an EventSource does: lines ended by CR, LF or CRLF,
    ``field: value``, comments starting with a colon, an event dispatched by a blank line when it has data."""

    def __init__(self) -> None:
        self.buffer = b""
        self.event = ""
        self.data: list[str] = []
        self.last_id = ""
        self.retry_ms: int | None = None
        self.comments = 0

    def feed(self, piece: bytes) -> list[tuple[str, str]]:
        """The events (type, data) that ``piece`` completes."""
        buffer = self.buffer + piece
        # A CR at the end may be the first half of a CRLF: kept for the next piece.
        end = len(buffer) - 1 if buffer.endswith(b"\r") else len(buffer)
        lines = LINE_END.split(buffer[:end])
        self.buffer = lines.pop() + buffer[end:]
        events = []
        for raw in lines:
            line = raw.decode("utf-8", errors="replace")
            if not line:
                if self.data:
                    events.append((self.event or "message", "\n".join(self.data)))
                self.event, self.data = "", []
            elif line.startswith(":"):
                self.comments += 1
            else:
                name, colon, value = line.partition(":")
                if colon and value.startswith(" "):
                    value = value[1:]
                if name == "event":
                    self.event = value
                elif name == "data":
                    self.data.append(value)
                elif name == "id" and "\0" not in value:
                    self.last_id = value
                elif name == "retry" and value.isdigit():
                    self.retry_ms = int(value)
        return events


@dataclass(eq=False)
class View:
    """One live part of a screen (its list, or its order page): its EventSource and its refreshes."""

    screen: Any
    kind: str
    path: str
    phase: float
    # The EventSource's readyState ("connecting", "open", "closed"), "none" before the page made one.
    state: str = "none"
    # When the page last made an EventSource, and when a refresh was last answered (loop time).
    made: float = 0.0
    refreshed: float = 0.0
    safety: float = SAFETY_SECONDS[1]
    retry_ms: int = RETRY_MS
    last_id: str = ""
    # A refresh in flight, and the one htmx queued behind it (its default sync, "queue first": one at most).
    busy: bool = False
    queued: tuple[float, str] | None = None
    tick: asyncio.TimerHandle | None = None
    source: asyncio.Task | None = None
    writer: asyncio.StreamWriter | None = None


@dataclass
class StreamCounts:
    opened: int = 0
    # Answers other than an event stream, by status: the EventSource gives up.
    refused: Counter = field(default_factory=Counter)
    # Connections that failed or broke: the EventSource opens the stream again after ``retry``.
    errors: int = 0
    ended: int = 0
    events: int = 0
    keep_alives: int = 0
    # Refreshes htmx would drop: one was in flight and another already queued behind it.
    dropped: int = 0
    open_samples: list[int] = field(default_factory=list)


class Streams:
    """Every screen's live parts, as static/js/live_stream.js and htmx run them in the page."""

    def __init__(self, port: int, screens: list, refresh: Callable[..., None], seed: int = 13) -> None:
        self.port = port
        self.refresh = refresh
        self.counts = StreamCounts()
        self.stopping = False
        self.open_count = 0
        self.started = 0.0
        rng = random.Random(seed)
        self.views = []
        for screen in screens:
            base = f"/e/{screen.establishment}/orders"
            self.views.append(View(screen, "list", f"{base}/live/stream/", rng.uniform(0, POLL_SECONDS)))
            if screen.order is not None:
                self.views.append(View(screen, "detail", f"{base}/{screen.order}/live/stream/", rng.uniform(0, POLL_SECONDS)))
        self.sampler: asyncio.Task | None = None

    def start(self) -> None:
        """Each page listens at a moment of its own within the next 3 s, and its 3 s tick starts 3 s after that
        moment (the screens have just had their first poll)."""
        loop = asyncio.get_running_loop()
        self.started = loop.time()
        for view in self.views:
            loop.call_at(self.started + view.phase, self._listen, view)
            view.tick = loop.call_at(self.started + view.phase + POLL_SECONDS, self._tick, view)

    async def until_open(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while self.open_count < len(self.views) and time.perf_counter() < deadline:
            await asyncio.sleep(0.2)

    def measure(self) -> None:
        """Counts from now on, and the number of open streams sampled every second."""
        self.counts = StreamCounts()
        self.sampler = asyncio.get_running_loop().create_task(self._sample())

    async def stop(self) -> None:
        self.stopping = True
        if self.sampler is not None:
            self.sampler.cancel()
        sources = []
        for view in self.views:
            if view.tick is not None:
                view.tick.cancel()
            if view.source is not None:
                view.source.cancel()
                sources.append(view.source)
        await asyncio.gather(*sources, return_exceptions=True)

    async def _sample(self) -> None:
        while True:
            self.counts.open_samples.append(self.open_count)
            await asyncio.sleep(1)

    # The page ---------------------------------------------------------------------

    def _tick(self, view: View) -> None:
        """htmx's "every 3s": held back while the stream is open and the last refresh is less than 30 s old."""
        if self.stopping:
            return
        loop = asyncio.get_running_loop()
        view.tick = loop.call_at(view.tick.when() + POLL_SECONDS, self._tick, view)
        if view.state != "open":
            self._trigger(view, "poll")
        elif loop.time() - view.refreshed >= view.safety:
            self._trigger(view, "safety")

    def _trigger(self, view: View, reason: str) -> None:
        if self.stopping:
            return
        at = time.perf_counter()
        if not view.busy:
            view.busy = True
            self.refresh(at, view.screen, view.kind, reason, lambda: self._answered(view))
        elif view.queued is None:
            view.queued = (at, reason)
        else:
            self.counts.dropped += 1

    def _answered(self, view: View) -> None:
        """htmx's after-request: the time of the refresh kept, the queued one sent, the stream opened again."""
        view.refreshed = asyncio.get_running_loop().time()
        view.safety = random.uniform(*SAFETY_SECONDS)
        view.busy = False
        if view.queued is not None and not self.stopping:
            (at, reason), view.queued = view.queued, None
            view.busy = True
            self.refresh(at, view.screen, view.kind, reason, lambda: self._answered(view))
        self._listen(view)

    def _listen(self, view: View) -> None:
        """live_stream.js's listen(): a new EventSource unless one is open or connecting, or the last one was
        made less than 30 s ago."""
        loop = asyncio.get_running_loop()
        if self.stopping or view.state in ("connecting", "open"):
            return
        if view.state == "closed" and loop.time() - view.made < RETRY_SECONDS:
            return
        view.made = loop.time()
        view.state = "connecting"
        view.source = loop.create_task(self._event_source(view))

    # The EventSource ----------------------------------------------------------------

    def _set_state(self, view: View, state: str) -> None:
        self.open_count += (state == "open") - (view.state == "open")
        view.state = state

    async def _event_source(self, view: View) -> None:
        """Opens the stream again ``retry`` ms after it ended or its connection failed; gives up (closed) on an
        answer that is not an event stream."""
        while True:
            try:
                if not await self._stream(view):
                    self._set_state(view, "closed")
                    return
                self.counts.ended += 1
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                self.counts.errors += 1
            finally:
                if view.writer is not None:
                    view.writer.close()
                    view.writer = None
            self._set_state(view, "connecting")
            await asyncio.sleep(view.retry_ms / 1000)

    async def _stream(self, view: View) -> bool:
        """False when the answer is not an event stream; True when the stream ended."""
        reader, view.writer = await asyncio.open_connection("127.0.0.1", self.port)
        lines = [
            f"GET {view.path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            f"Cookie: {view.screen.cookie}",
            "Accept: text/event-stream",
            "Cache-Control: no-cache",
            "Accept-Language: fr",
        ]
        if view.last_id:
            lines.append(f"Last-Event-ID: {view.last_id}")
        view.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        status, headers = await read_head(reader)
        if status != 200 or not headers.get("content-type", "").startswith("text/event-stream"):
            self.counts.refused[status] += 1
            return False
        self._set_state(view, "open")
        self.counts.opened += 1
        self._trigger(view, "open")
        parser = EventStream()
        async for piece in body_pieces(reader, headers):
            comments = parser.comments
            for event, _ in parser.feed(piece):
                self.counts.events += 1
                if event == "changed":
                    self._trigger(view, "event")
            self.counts.keep_alives += parser.comments - comments
            if parser.retry_ms is not None:
                view.retry_ms = parser.retry_ms
            view.last_id = parser.last_id or view.last_id
        return True


async def open_all(streams: Streams, refreshes: Any) -> None:
    """Every stream opened (or 12 s gone by), and the refresh that follows each open answered."""
    streams.start()
    await streams.until_open(timeout=4 * POLL_SECONDS)
    while not refreshes.queue.empty():
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)


async def measure(streams: Streams, refreshes: Any, pool: asyncio.Task, duration: float) -> None:
    """The screens left to their streams for ``duration``; then the streams closed and the last GETs answered."""
    streams.measure()
    await asyncio.sleep(duration)
    await streams.stop()
    refreshes.close()
    await pool


def report(counts: StreamCounts, views: int) -> None:
    samples = counts.open_samples or [0]
    print(
        f"  streams: {views} (lists and order pages), open {min(samples)}-{max(samples)}"
        f" (mean {statistics.mean(samples):.0f}); opened {counts.opened}, ended by the server {counts.ended},"
        f" refused {dict(counts.refused)}, connections failed {counts.errors}; {counts.events} events,"
        f" {counts.keep_alives} keep-alives; refreshes dropped behind one in flight {counts.dropped}"
    )


# The stream process ---------------------------------------------------------------


def start_process(env: dict[str, str]) -> tuple[subprocess.Popen, int, list[str]]:
    """The Procfile's stream line on a free port, with the web's environment; its process, port and command."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = stream_command(port, env)
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    # Ready once it answers a request (any status: this one has no session).
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as probe:
                probe.sendall(b"GET /e/0/orders/live/stream/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if probe.recv(5) == b"HTTP/":
                    return process, port, command
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.terminate()
            sys.exit("the stream process did not start")
        time.sleep(0.1)


def stream_command(port: int, env: dict[str, str]) -> list[str]:
    """The Procfile's stream line, its ``${NAME:-default}`` read from ``env`` with STREAM_PORT=port; without its
    access log, as the bench runs the web."""
    line = next((line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("stream:")), None)
    if line is None:
        sys.exit("The Procfile has no stream: line (push needs the server-sent events process).")
    variables = {**env, "STREAM_PORT": str(port)}

    def expand(match: re.Match) -> str:
        return variables.get(match[1] or match[3]) or (match[2] or "")

    words = iter(shlex.split(re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", expand, line.partition(":")[2])))
    command = []
    for word in words:
        if word == "--access-logfile":
            next(words, None)
        elif not word.startswith("--access-logfile="):
            command.append(word)
    if command[0] == "gunicorn":
        command[0] = str(Path(sys.executable).parent / "gunicorn")
        command.append("--log-level=warning")
    return command
