"""Sending a ticket's bytes to a printer's TCP port (9100), and what TCP can tell us about it.

python-escpos builds the bytes (printing.render) and asks the paper status, but
its ``Network`` printer has one timeout for everything and no way to say how a
send ended; here the socket is ours, with a connect timeout and a timeout for
each read and write, and every way a send can end is told apart:

1. connect: refused, unreachable or timed out means nothing was printed;
2. the paper status (DLE EOT 4, answered at once by printers that implement
   real-time status): out of paper means nothing is sent now; a printer that
   does not answer within a second is asked nothing more;
3. the ticket, then the status again (paper that ran out meanwhile);
4. we close our side and wait for the printer to close its own. A raw-port
   printer closes once it has read everything; one that closes with bytes
   unread sends a reset instead. A clean close is the only proof TCP gives that
   the whole ticket reached the printer: without it the ticket may or may not
   have come out, and it is sent again (at least once, never lost).
"""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from escpos.constants import RT_MASK_NOPAPER, RT_STATUS_PAPER
from escpos.escpos import Escpos

from printing.render import PROFILE

# How long a printer has to answer a status request before we take it for one that never does.
STATUS_WAIT = 1.0
CHUNK = 4096


class PrinterError(Exception):
    """A send that did not end with the whole ticket at the printer."""

    def __init__(self, message: str, *, problem: str, bytes_sent: int = 0) -> None:
        super().__init__(message)
        self.problem = problem
        # Bytes the system took from us before the failure: some of the ticket may have printed.
        self.bytes_sent = bytes_sent


UNREACHABLE = "unreachable"
PAPER_OUT = "paper_out"


class _StatusPort(Escpos):
    """python-escpos over our socket, for its status query only."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(profile=PROFILE)
        self._sock = sock

    def _raw(self, msg: bytes) -> None:
        self._sock.sendall(msg)

    def _read(self) -> bytes:
        return self._sock.recv(16)

    def close(self) -> None:
        """The socket is closed by whoever opened it."""


@dataclass(frozen=True)
class Delivery:
    bytes_sent: int
    # Whether the printer answered the status requests (real-time status support).
    answered_status: bool


def _paper_out(port: _StatusPort, sock: socket.socket, io_timeout: float) -> bool | None:
    """True if the printer reports no paper, False if it has some, None if it does not answer."""
    sock.settimeout(min(STATUS_WAIT, io_timeout))
    try:
        status = port.query_status(RT_STATUS_PAPER)
    except TimeoutError:
        return None
    finally:
        sock.settimeout(io_timeout)
    if not status:
        raise ConnectionResetError("closed by the printer")
    return status[-1] & RT_MASK_NOPAPER == RT_MASK_NOPAPER


def _connect(host: str, port: int, connect_timeout: float) -> socket.socket:
    try:
        sock = socket.create_connection((host, port), timeout=connect_timeout)
    except ConnectionRefusedError:
        raise PrinterError(str(_("connection refused")), problem=UNREACHABLE) from None
    except TimeoutError:
        raise PrinterError(str(_("no answer within %(seconds)g s") % {"seconds": connect_timeout}), problem=UNREACHABLE) from None
    except socket.gaierror:
        raise PrinterError(str(_("unknown address")), problem=UNREACHABLE) from None
    except OSError as error:
        raise PrinterError(
            str(_("unreachable (%(error)s)") % {"error": error.strerror or type(error).__name__}), problem=UNREACHABLE
        ) from None
    # The status request after the ticket is 3 bytes: without this, Nagle's algorithm holds it
    # until the printer acknowledges the ticket, which a delayed ACK puts off by up to 40 ms a ticket.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _send_all(sock: socket.socket, data: bytes, io_timeout: float) -> int:
    """The ticket within ``io_timeout`` in all, however slowly the printer reads: a job's lease outlasts every send."""
    sent = 0
    view = memoryview(data)
    deadline = time.monotonic() + io_timeout
    try:
        while sent < len(data):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            sock.settimeout(remaining)
            sent += sock.send(view[sent : sent + CHUNK])
    except OSError as error:
        raise _Interrupted(sent, error) from None
    sock.settimeout(io_timeout)
    return sent


class _Interrupted(Exception):
    def __init__(self, sent: int, error: OSError) -> None:
        super().__init__(str(error))
        self.sent = sent
        self.error = error


def _wait_for_close(sock: socket.socket, deadline: float) -> None:
    """Until the printer closes its side (it read everything); what it says meanwhile is ignored."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        if not sock.recv(256):
            return


def send(host: str, port: int, data: bytes, *, connect_timeout: float, io_timeout: float) -> Delivery:
    """Send one ticket; returns once the printer has surely taken all of it, else raises PrinterError."""
    sock = _connect(host, port, connect_timeout)
    sent = 0
    try:
        sock.settimeout(io_timeout)
        status_port = _StatusPort(sock)
        paper_out = _paper_out(status_port, sock, io_timeout)
        if paper_out:
            raise PrinterError(str(_("out of paper")), problem=PAPER_OUT)
        sent = _send_all(sock, data, io_timeout)
        if paper_out is not None and _paper_out(status_port, sock, io_timeout):
            raise PrinterError(str(_("ran out of paper during the ticket")), problem=PAPER_OUT, bytes_sent=sent)
        sock.shutdown(socket.SHUT_WR)
        _wait_for_close(sock, time.monotonic() + io_timeout)
        return Delivery(bytes_sent=sent, answered_status=paper_out is not None)
    except _Interrupted as interrupted:
        raise PrinterError(_describe(interrupted.error, io_timeout), problem=UNREACHABLE, bytes_sent=interrupted.sent) from None
    except OSError as error:
        raise PrinterError(_describe(error, io_timeout), problem=UNREACHABLE, bytes_sent=sent) from None
    finally:
        with contextlib.suppress(OSError):
            sock.close()


def _describe(error: OSError, io_timeout: float) -> str:
    if isinstance(error, TimeoutError):
        return str(_("the printer stopped answering (%(seconds)g s)") % {"seconds": io_timeout})
    if isinstance(error, (ConnectionResetError, BrokenPipeError)):
        return str(_("the printer closed the connection before the end of the ticket"))
    return str(_("connection lost (%(error)s)") % {"error": error.strerror or type(error).__name__})
