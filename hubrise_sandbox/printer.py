"""Virtual thermal printers: TCP servers that take ESC/POS as a kitchen printer would, and show what came out.

Each printer listens on its own port (9100 for the demo's), decodes the text,
its code page, bold, sizes, reverse video, alignment and the cut, answers the
real-time paper status request (DLE EOT 4) and keeps the tickets it printed.
Like a real one it serves one connection at a time and closes its side once
the client has closed its own, after reading everything.

Faults for tests (one printer at a time): ``refuse`` (nothing listens: the
connection is refused), ``hang`` (accepts, reads nothing, answers nothing),
``close_mid_ticket`` (reads ``after_bytes`` bytes, then resets the connection:
half a ticket comes out), ``out_of_paper`` (reports no paper and prints
nothing). The page at /printers shows the tickets; the control API is under
/_sandbox/printers.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from flask import Blueprint, Flask, current_app, jsonify, render_template, request

from .control import require_loopback
from .errors import ValidationFailed, not_found

logger = logging.getLogger(__name__)

ESC, GS, DLE, LF = 0x1B, 0x1D, 0x10, 0x0A
# ESC t n: the code pages a kitchen printer is told to use, by number (Epson's numbering).
CODE_PAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858"}
# DLE EOT 4 answers: paper present, and paper end (bits 5 and 6 set).
PAPER_OK = 0x12
PAPER_END = 0x72
# ESC and GS commands that take one parameter byte and change nothing we show.
ESC_ONE_BYTE = set(b"-MUV{3JrRG%")
GS_ONE_BYTE = set(b"bH|fhwLk")
FAULT_MODES = ("refuse", "hang", "close_mid_ticket", "out_of_paper")
TICKETS_KEPT = 2000


@dataclass
class Style:
    bold: bool = False
    width: int = 1
    height: int = 1
    reverse: bool = False
    align: str = "left"

    @property
    def size(self) -> str:
        if self.width > 1 and self.height > 1:
            return "large"
        if self.height > 1:
            return "tall"
        return "wide" if self.width > 1 else "normal"


@dataclass
class Ticket:
    id: int
    printer: str
    started_at: float
    lines: list[dict] = field(default_factory=list)
    # Time of the last byte of the ticket (its cut, or the last byte before the connection ended).
    finished_at: float | None = None
    complete: bool = False
    bytes: int = 0

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "printer": self.printer,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "complete": self.complete,
            "bytes": self.bytes,
            "lines": self.lines,
            "text": "\n".join(line["text"] for line in self.lines),
        }


class Decoder:
    """ESC/POS bytes to lines of styled text and cuts, fed as they arrive (a command may span two reads)."""

    def __init__(self, on_cut, on_status) -> None:
        self._on_cut = on_cut
        self._on_status = on_status
        self._pending = b""
        self.style = Style()
        self.code_page = "cp437"
        self.lines: list[dict] = []
        self._text = bytearray()
        self._line_style: Style | None = None

    def feed(self, data: bytes) -> None:
        buffer = self._pending + data
        position = 0
        while position < len(buffer):
            used = self._step(buffer, position)
            if used == 0:
                break  # an incomplete command: wait for the rest
            position += used
        self._pending = buffer[position:]

    def _step(self, buffer: bytes, at: int) -> int:
        byte = buffer[at]
        if byte == LF:
            self._end_line()
            return 1
        if byte == ESC:
            return self._escape(buffer, at)
        if byte == GS:
            return self._group(buffer, at)
        if byte == DLE:
            if at + 2 >= len(buffer):
                return 0
            if buffer[at + 1] == 0x04:
                self._on_status(buffer[at + 2])
            return 3
        if byte < 0x20:
            return 1
        if self._line_style is None:
            self._line_style = Style(**vars(self.style))
        self._text.append(byte)
        return 1

    def _escape(self, buffer: bytes, at: int) -> int:
        if at + 1 >= len(buffer):
            return 0
        command = buffer[at + 1]
        if command == ord("@"):
            self.style = Style()
            return 2
        if command == ord("2"):
            return 2
        if at + 2 >= len(buffer):
            return 0
        value = buffer[at + 2]
        if command == ord("!"):
            self.style.bold = bool(value & 0x08)
            self.style.height = 2 if value & 0x10 else 1
            self.style.width = 2 if value & 0x20 else 1
        elif command == ord("E"):
            self.style.bold = bool(value & 1)
        elif command == ord("a"):
            self.style.align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}.get(value, "left")
        elif command == ord("t"):
            self.code_page = CODE_PAGES.get(value, "cp437")
        elif command == ord("d"):
            for _ in range(value):
                self._end_line()
        elif command not in ESC_ONE_BYTE:
            return 2  # unknown: skip the command byte, keep the rest as data
        return 3

    def _group(self, buffer: bytes, at: int) -> int:
        if at + 2 >= len(buffer):
            return 0
        command, value = buffer[at + 1], buffer[at + 2]
        if command == ord("V"):
            if value in (65, 66):
                if at + 3 >= len(buffer):
                    return 0
                self._cut()
                return 4
            self._cut()
            return 3
        if command == ord("!"):
            self.style.width = (value >> 4) + 1
            self.style.height = (value & 0x0F) + 1
        elif command == ord("B"):
            self.style.reverse = bool(value & 1)
        elif command not in GS_ONE_BYTE:
            return 2
        return 3

    def _end_line(self) -> None:
        style = self._line_style or self.style
        self.lines.append(
            {
                "text": self._text.decode(self.code_page, errors="replace"),
                "bold": style.bold,
                "size": style.size,
                "reverse": style.reverse,
                "align": style.align,
            }
        )
        self._text = bytearray()
        self._line_style = None

    def _cut(self) -> None:
        if self._text:
            self._end_line()
        while self.lines and not self.lines[-1]["text"]:
            self.lines.pop()  # the feed before the cut
        lines, self.lines = self.lines, []
        self._on_cut(lines)

    def leftover(self) -> list[dict]:
        """What was printed after the last cut (a torn ticket when the connection ended early)."""
        if self._text:
            self._end_line()
        lines, self.lines = self.lines, []
        return lines if any(line["text"] for line in lines) else []


@dataclass
class Fault:
    mode: str
    # Connections it applies to; 0 until cleared.
    count: int = 0
    after_bytes: int = 40


class VirtualPrinter:
    def __init__(self, printer_id: int, name: str, port: int, host: str = "127.0.0.1") -> None:
        self.id = printer_id
        self.name = name
        self.host = host
        self.fault: Fault | None = None
        self.tickets: list[Ticket] = []
        self.connections = 0
        self.busy = 0
        self.max_busy = 0
        self._lock = threading.Lock()
        # One connection printed at a time, as a real printer does; the others wait their turn.
        self._serving = threading.Lock()
        self._ticket_ids = itertools.count(1)
        # Raised when a hang ends, as by switching the printer off and on: what it accepted meanwhile is lost.
        self._generation = 0
        self._server: socket.socket | None = None
        self._stopped = threading.Event()
        self.port = self._listen(port)

    # Listening -------------------------------------------------------------------

    def _listen(self, port: int) -> int:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((self.host, port))
        server.listen(16)
        self._server = server
        threading.Thread(target=self._accept_loop, args=(server,), name=f"printer-{self.id}", daemon=True).start()
        return server.getsockname()[1]

    def _accept_loop(self, server: socket.socket) -> None:
        while True:
            try:
                client, _address = server.accept()
            except OSError:
                return  # closed: refusing, or stopped
            threading.Thread(target=self._serve, args=(client, self._generation), daemon=True).start()

    def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)
            server.close()

    def stop(self) -> None:
        self._stopped.set()
        self._close_listener()

    def set_fault(self, fault: Fault | None) -> None:
        with self._lock:
            previous, self.fault = self.fault, fault
            if previous is not None and previous.mode == "hang":
                self._generation += 1
        if fault is not None and fault.mode == "refuse":
            self._close_listener()
        elif previous is not None and previous.mode == "refuse" and self._server is None and not self._stopped.is_set():
            self._listen(self.port)

    def _take_fault(self) -> Fault | None:
        with self._lock:
            fault = self.fault
            if fault is None or fault.mode == "refuse":
                return None
            if fault.count:
                fault.count -= 1
                if fault.count == 0:
                    self.fault = None
            return fault

    # One connection ---------------------------------------------------------------

    def _serve(self, client: socket.socket, generation: int) -> None:
        with self._serving:
            if generation != self._generation:
                _reset(client)
                return
            with self._lock:
                self.connections += 1
                self.busy += 1
                self.max_busy = max(self.max_busy, self.busy)
            try:
                self._print_from(client, self._take_fault())
            except OSError:
                pass
            finally:
                with self._lock:
                    self.busy -= 1
                with contextlib.suppress(OSError):
                    client.close()

    def _print_from(self, client: socket.socket, fault: Fault | None) -> None:
        if fault is not None and fault.mode == "hang":
            while not self._stopped.is_set() and self.fault is not None and self.fault.mode == "hang":
                time.sleep(0.05)
            return
        paper_out = fault is not None and fault.mode == "out_of_paper"
        started = time.time()
        state = {"ticket_start": started, "bytes": 0, "ticket_bytes": 0}

        def on_status(kind: int) -> None:
            client.sendall(bytes([PAPER_END if paper_out and kind == 4 else (0x16 if kind == 1 else PAPER_OK)]))

        def on_cut(lines: list[dict]) -> None:
            if not paper_out:
                self._keep(lines, state["ticket_start"], complete=True, size=state["ticket_bytes"])
            state["ticket_start"] = time.time()
            state["ticket_bytes"] = 0

        decoder = Decoder(on_cut, on_status)
        limit = fault.after_bytes if fault is not None and fault.mode == "close_mid_ticket" else None
        while True:
            wanted = 4096 if limit is None else max(1, min(4096, limit - state["bytes"]))
            data = client.recv(wanted)
            if not data:
                break
            state["bytes"] += len(data)
            state["ticket_bytes"] += len(data)
            decoder.feed(data)
            if limit is not None and state["bytes"] >= limit:
                # The torn part is on paper before the sender can notice the reset, as with a real printer.
                self._keep_torn(decoder, state, paper_out)
                # Reset rather than close: the bytes still unread are refused, as by a printer switched off.
                _reset(client)
                return
        self._keep_torn(decoder, state, paper_out)

    def _keep_torn(self, decoder: Decoder, state: dict, paper_out: bool) -> None:
        leftover = decoder.leftover()
        if leftover and not paper_out:
            self._keep(leftover, state["ticket_start"], complete=False, size=state["ticket_bytes"])

    def _keep(self, lines: list[dict], started: float, *, complete: bool, size: int) -> None:
        ticket = Ticket(
            id=next(self._ticket_ids),
            printer=self.name,
            started_at=started,
            lines=lines,
            finished_at=time.time(),
            complete=complete,
            bytes=size,
        )
        with self._lock:
            self.tickets.append(ticket)
            del self.tickets[:-TICKETS_KEPT]

    def as_dict(self) -> dict:
        with self._lock:
            return {
                "id": self.id,
                "name": self.name,
                "host": self.host,
                "port": self.port,
                "fault": vars(self.fault) if self.fault else None,
                "tickets": len(self.tickets),
                "connections": self.connections,
                "max_simultaneous_connections": self.max_busy,
            }


def _reset(client: socket.socket) -> None:
    """Close with a reset (what the peer sent and we did not read is refused), not a clean close."""
    with contextlib.suppress(OSError):
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()


class VirtualPrinters:
    """The sandbox's printers, by id."""

    def __init__(self) -> None:
        self._printers: dict[int, VirtualPrinter] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, name: str, port: int = 0) -> VirtualPrinter:
        printer = VirtualPrinter(next(self._ids), name, port)
        with self._lock:
            self._printers[printer.id] = printer
        return printer

    def get(self, printer_id: int) -> VirtualPrinter:
        with self._lock:
            printer = self._printers.get(printer_id)
        if printer is None:
            raise not_found(f"Unknown printer {printer_id}")
        return printer

    def all(self) -> list[VirtualPrinter]:
        with self._lock:
            return list(self._printers.values())

    def remove(self, printer_id: int) -> None:
        printer = self.get(printer_id)
        printer.stop()
        with self._lock:
            self._printers.pop(printer_id, None)

    def stop_all(self) -> None:
        for printer in self.all():
            printer.stop()

    def start_demo_printer(self) -> None:
        """The demo kitchen's printer, on HUBRISE_SANDBOX_PRINTER_PORT (9100; 0 for any free port; empty for none)."""
        raw = os.environ.get("HUBRISE_SANDBOX_PRINTER_PORT", "9100").strip()
        if not raw:
            return
        try:
            printer = self.add("Cuisine", int(raw))
        except (ValueError, OSError) as error:
            logger.warning("Virtual printer not started on port %r: %s", raw, error)
            return
        logger.info("Virtual printer %r on %s:%s, tickets at /printers", printer.name, printer.host, printer.port)


printers_blueprint = Blueprint("printers", __name__, static_folder="static", static_url_path="/printers/static")


def _printers() -> VirtualPrinters:
    return current_app.extensions["virtual_printers"]


def attach(app: Flask) -> VirtualPrinters:
    """Adds the printers' page and control API to the sandbox app; the demo printer starts with ``start_demo_printer``."""
    printers = VirtualPrinters()
    app.extensions["virtual_printers"] = printers
    app.register_blueprint(printers_blueprint)
    return printers


@printers_blueprint.get("/printers")
def page():
    printers = _printers().all()
    tickets = sorted((ticket for printer in printers for ticket in printer.tickets), key=lambda t: t.finished_at or 0)
    return render_template("printers.html", printers=[p.as_dict() for p in printers], tickets=tickets[::-1][:100])


@printers_blueprint.before_request
def _control_only_from_loopback():
    if request.path.startswith("/_sandbox/"):
        require_loopback()


@printers_blueprint.get("/_sandbox/printers")
def list_printers():
    return jsonify([printer.as_dict() for printer in _printers().all()])


@printers_blueprint.post("/_sandbox/printers")
def add_printer():
    body = request.get_json(silent=True) or {}
    name, port = body.get("name", "Imprimante"), body.get("port", 0)
    errors = []
    if not isinstance(name, str) or not name.strip() or len(name) > 60:
        errors.append({"field": "name", "message": "must be a non-empty string of at most 60 characters"})
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        errors.append({"field": "port", "message": "must be a port number, or 0 for any free port"})
    if errors:
        raise ValidationFailed(errors)
    return jsonify(_printers().add(name.strip(), port).as_dict()), 201


@printers_blueprint.delete("/_sandbox/printers/<int:printer_id>")
def remove_printer(printer_id: int):
    _printers().remove(printer_id)
    return jsonify({"ok": True})


@printers_blueprint.get("/_sandbox/printers/<int:printer_id>/tickets")
def tickets(printer_id: int):
    printer = _printers().get(printer_id)
    with printer._lock:
        return jsonify([ticket.as_dict() for ticket in printer.tickets])


@printers_blueprint.delete("/_sandbox/printers/<int:printer_id>/tickets")
def clear_tickets(printer_id: int):
    printer = _printers().get(printer_id)
    with printer._lock:
        printer.tickets.clear()
    return jsonify([])


@printers_blueprint.post("/_sandbox/printers/<int:printer_id>/fault")
def set_fault(printer_id: int):
    printer = _printers().get(printer_id)
    body = request.get_json(silent=True) or {}
    mode, count, after_bytes = body.get("mode"), body.get("count", 0), body.get("after_bytes", 40)
    errors = []
    if mode not in FAULT_MODES:
        errors.append({"field": "mode", "message": f"must be one of {', '.join(FAULT_MODES)}"})
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        errors.append({"field": "count", "message": "must be a number of connections, 0 until cleared"})
    if isinstance(after_bytes, bool) or not isinstance(after_bytes, int) or after_bytes < 1:
        errors.append({"field": "after_bytes", "message": "must be a positive number of bytes"})
    if errors:
        raise ValidationFailed(errors)
    printer.set_fault(Fault(mode, count, after_bytes))
    return jsonify(printer.as_dict()), 201


@printers_blueprint.delete("/_sandbox/printers/<int:printer_id>/fault")
def clear_fault(printer_id: int):
    printer = _printers().get(printer_id)
    printer.set_fault(None)
    return jsonify(printer.as_dict())
