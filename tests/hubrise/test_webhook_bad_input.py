"""Bad input on the HubRise callback: every body below gets a clear 4xx, changes nothing and crashes nothing.

One table, one shared check. A refused signature or an oversized body is quarantined
for admins; an authentic body we cannot read is recorded as malformed; in every case
the order keeps its status and history and no event is applied.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.test.client import FakePayload
from django.urls import reverse

from hubrise_sync import inbound
from hubrise_sync.models import InboundEvent, OutboxMessage, QuarantinedCallback
from tests.factories import make_establishment
from tests.hubrise.callbacks import SECRET, connect, fixture_bytes, linked_order, sign

pytestmark = pytest.mark.django_db

ORIGINAL = fixture_bytes("order_update_accepted")
MAX_BYTES = 1024 * 1024
HUGE = b'{"padding": "' + b"x" * MAX_BYTES + b'"}'
DEEP = 100_000


def event(**changes) -> bytes:
    """The recorded event with some top-level fields replaced, serialised again (and signed again by the case)."""
    body = json.loads(ORIGINAL)
    body.update(changes)
    return json.dumps(body).encode()


def new_state(**changes) -> dict:
    return {**json.loads(ORIGINAL)["new_state"], **changes}


@dataclass(frozen=True)
class Case:
    """A request to the callback: the body, the headers that differ from an honest signed JSON POST, the answer.

    A header set to None is not sent. ``says`` must appear in the JSON body's detail
    (empty: any message).
    """

    name: str
    body: bytes
    code: int
    says: str
    headers: dict[str, str | None] = field(default_factory=dict)

    def sent_headers(self) -> dict[str, str]:
        honest = {
            "Content-Type": "application/json",
            "Content-Length": str(len(self.body)),
            inbound.SIGNATURE_HEADER: sign(self.body),
        }
        honest.update(self.headers)
        return {name: value for name, value in honest.items() if value is not None}

    def bytes_read(self) -> bytes:
        """What the server reads: Django reads Content-Length bytes, and nothing without one."""
        declared = self.sent_headers().get("Content-Length")
        return self.body[: int(declared)] if declared is not None else b""


NOT_UTF8 = ORIGINAL.replace(b"Suppl\xc3\xa9ments", b"Suppl\xe9ments")
HALF = ORIGINAL[: len(ORIGINAL) // 2]
COMPACT = json.dumps(json.loads(ORIGINAL), separators=(",", ":")).encode()
SORTED = json.dumps(json.loads(ORIGINAL), indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
OF_ORIGINAL = {inbound.SIGNATURE_HEADER: sign(ORIGINAL)}

CASES = [
    # Size
    Case("over 1 MB, honest Content-Length", HUGE, 413, f"larger than {MAX_BYTES} bytes"),
    Case("over 1 MB, understated Content-Length", HUGE, 401, "signature", {"Content-Length": "1000"}),
    # Django reads no body without a Content-Length: the signature then fails on the empty body.
    Case("over 1 MB, chunked", HUGE, 401, "signature", {"Content-Length": None, "Transfer-Encoding": "chunked"}),
    # Not a readable body
    Case("empty", b"", 400, "not JSON"),
    Case("empty, unsigned", b"", 401, "signature", {inbound.SIGNATURE_HEADER: None}),
    Case("not JSON", b'{"id": "ks8f6", "resource_type": "order",', 400, "not JSON"),
    Case("not UTF-8 (Latin-1)", NOT_UTF8, 400, "not UTF-8"),
    Case("not UTF-8 (UTF-16)", ORIGINAL.decode().encode("utf-16"), 400, "not UTF-8"),
    Case("NUL byte in a body that is not JSON", b'{"id": "ks8f6\x00"', 400, "not JSON"),
    Case(f"{DEEP:,} nested arrays", b"[" * DEEP + b"]" * DEEP, 400, "nested too deeply"),
    Case(f"{DEEP:,} nested objects", b'{"a":' * DEEP + b"1" + b"}" * DEEP, 400, "nested too deeply"),
    Case("JSON null", b"null", 400, "not a JSON object"),
    Case("JSON array", b"[" + ORIGINAL + b"]", 400, "not a JSON object"),
    Case("JSON number", b"42", 400, "not a JSON object"),
    Case("JSON string", b'"ks8f6"', 400, "not a JSON object"),
    # Content type
    Case("text/plain", ORIGINAL, 415, "not application/json", {"Content-Type": "text/plain"}),
    Case("form-encoded", ORIGINAL, 415, "not application/json", {"Content-Type": "application/x-www-form-urlencoded"}),
    Case("no Content-Type", ORIGINAL, 415, "not application/json", {"Content-Type": None}),
    # Signature
    Case("truncated, signed again", HALF, 400, "not JSON"),
    Case("truncated, signature of the whole", HALF, 401, "signature", OF_ORIGINAL),
    Case("re-serialised compact", COMPACT, 401, "signature", OF_ORIGINAL),
    Case("re-serialised with sorted keys", SORTED, 401, "signature", OF_ORIGINAL),
    Case("signed with another secret", ORIGINAL, 401, "signature", {inbound.SIGNATURE_HEADER: sign(ORIGINAL, "someone-elses")}),
    Case("wrong signature", ORIGINAL, 401, "signature", {inbound.SIGNATURE_HEADER: "0" * 64}),
    Case("signature not hexadecimal", ORIGINAL, 401, "signature", {inbound.SIGNATURE_HEADER: "not-a-signature"}),
    Case("signature with non-ASCII characters", ORIGINAL, 401, "signature", {inbound.SIGNATURE_HEADER: "é" * 64}),
    Case("no signature", ORIGINAL, 401, "signature", {inbound.SIGNATURE_HEADER: None}),
    # Wrong types in the fields
    Case("no new_state", fixture_bytes("order_update_without_new_state"), 400, "has no new_state.status"),
    Case("status as a number", event(new_state=new_state(status=3)), 400, "has no new_state.status"),
    Case("new_state as an array", event(new_state=[new_state()]), 400, "new_state is not an object"),
    Case("created_at as a number", event(created_at=1624547400), 400, "has no created_at"),
    Case("created_at not a date", event(created_at="yesterday"), 400, "created_at is not a time"),
    Case("created_at without offset", event(created_at="2021-06-24T17:10:00"), 400, "created_at is not a time"),
    Case("created_at on 30 February", event(created_at="2021-02-30T17:10:00+02:00"), 400, "created_at is not a time"),
    Case("created_at at 25 o'clock", event(created_at="2021-06-24T25:10:00+02:00"), 400, "created_at is not a time"),
    Case("created_at before year 1 in UTC", event(created_at="0001-01-01T00:00:00+14:00"), 400, "out of range"),
    Case("created_at after year 9999 in UTC", event(created_at="9999-12-31T23:59:59-14:00"), 400, "out of range"),
    Case("id as an object", event(id={"id": "ks8f6"}), 400, "has no id"),
    Case("id longer than the column", event(id="e" * 65), 400, "event id is longer than 64 characters"),
    Case("order_id as an object", event(order_id={"id": "5dpm9"}, new_state=new_state(id={"id": "5dpm9"})), 400, "no order_id"),
    Case("location_id as an object", event(location_id={"id": "3r4s3-1"}), 400, "location_id is not a string"),
    Case("NUL in the event id", event(id="ks8f6\u0000"), 400, "NUL character or an unpaired surrogate"),
    Case("NUL in the status", event(new_state=new_state(status="accepted\u0000")), 400, "NUL character or an unpaired surrogate"),
    Case("lone surrogate in the event id", event(id="ks8f6\ud800"), 400, "NUL character or an unpaired surrogate"),
]


def as_param(case: Case):
    return pytest.param(case, id=case.name)


def post(case: Case):
    """The case's exact bytes and headers, sent as a WSGI server would pass them to Django."""
    environ = {"wsgi.input": FakePayload(case.body)}
    for name, value in case.sent_headers().items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return Client(raise_request_exception=False).generic("POST", reverse("hubrise:callback"), **environ)


@pytest.fixture(autouse=True)
def client_secret(settings):
    settings.HUBRISE_CLIENT_SECRET = SECRET
    settings.HUBRISE_WEBHOOK_MAX_BYTES = MAX_BYTES


@pytest.fixture
def order():
    establishment = make_establishment()
    connect(establishment)
    return linked_order(establishment)


def snapshot(order) -> dict:
    order.refresh_from_db()
    return {
        "status": order.status,
        "history": list(order.history.order_by("at", "id").values_list("from_status", "to_status", "source", "reason")),
        "outbox": list(OutboxMessage.objects.filter(order=order).values_list("kind", "status")),
    }


@pytest.mark.parametrize("case", [as_param(case) for case in CASES])
def test_bad_input_gets_a_clear_4xx_changes_nothing_and_crashes_nothing(order, case, caplog):
    before = snapshot(order)

    with caplog.at_level(logging.WARNING):
        response = post(case)

    assert response.status_code == case.code, response.content[:300]
    assert response["Content-Type"] == "application/json"
    detail = response.json()["detail"]
    assert detail and case.says in detail
    assert snapshot(order) == before
    assert not InboundEvent.objects.exclude(outcome=InboundEvent.Outcome.MALFORMED).exists()
    crashes = [record for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]
    assert not crashes, [record.getMessage() for record in crashes]

    read = case.bytes_read()
    if case.code in (400, 415):
        recorded = InboundEvent.objects.get()
        assert (recorded.outcome, recorded.detail) == (InboundEvent.Outcome.MALFORMED, detail)
        # Kept for admins as text: undecodable bytes and NULs (which PostgreSQL text refuses) as U+FFFD.
        assert recorded.raw_body == read.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        assert not QuarantinedCallback.objects.exists()
    else:
        kept = QuarantinedCallback.objects.get()
        assert not InboundEvent.objects.exists()
        if case.code == 413:
            assert (kept.reason, bytes(kept.body), kept.body_size) == ("too_large", b"", len(case.body))
        else:
            signed = inbound.SIGNATURE_HEADER in case.sent_headers()
            assert kept.reason == ("bad_signature" if signed else "missing_signature")
            assert (bytes(kept.body), kept.body_size) == (read, len(read))
