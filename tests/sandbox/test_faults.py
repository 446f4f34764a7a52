"""Fault injection: 500, 502/503, 429, hang and drop, before or after HubRise carried the request out."""

from __future__ import annotations

import time

import pytest
import requests

ORDER = {"status": "new", "private_ref": "GR-1"}


def test_the_next_n_calls_answer_500_then_the_api_recovers(hubrise_sandbox, app_api):
    hubrise_sandbox.inject_fault("500", count=2)

    statuses = [app_api.get("/location").status_code for _ in range(3)]

    assert statuses == [500, 500, 200]


def test_a_500_before_processing_creates_nothing_and_the_log_says_so(hubrise_sandbox, app_api):
    hubrise_sandbox.inject_fault("500")

    response = app_api.post("/location/orders", ORDER)

    assert response.json()["error_type"] == "internal_error"
    assert hubrise_sandbox.orders() == []
    [entry] = hubrise_sandbox.requests_log(path_prefix="/v1/location/orders")
    assert (entry["status"], entry["fault"], entry["processed"]) == (500, "500", False)


def test_a_500_after_processing_still_creates_the_order(hubrise_sandbox, app_api):
    hubrise_sandbox.inject_fault("500", processed=True)

    response = app_api.post("/location/orders", ORDER)

    assert response.status_code == 500
    assert [order["private_refs"] for order in hubrise_sandbox.orders()] == [{hubrise_sandbox.client_id: "GR-1"}]
    assert hubrise_sandbox.requests_log()[0]["processed"] is True


@pytest.mark.parametrize(("mode", "title"), [("502", "Bad Gateway"), ("503", "Service Unavailable")])
def test_a_gateway_error_answers_html_like_a_load_balancer_and_creates_nothing(hubrise_sandbox, app_api, mode, title):
    hubrise_sandbox.inject_fault(mode)

    response = app_api.post("/location/orders", ORDER)

    assert response.status_code == int(mode)
    assert response.headers["Content-Type"].startswith("text/html")
    assert title in response.text
    assert hubrise_sandbox.orders() == []
    [entry] = hubrise_sandbox.requests_log(path_prefix="/v1/location/orders")
    assert (entry["status"], entry["fault"], entry["processed"]) == (int(mode), mode, False)


def test_an_injected_429_carries_retry_after(hubrise_sandbox, app_api):
    hubrise_sandbox.inject_fault("429", retry_after=7)

    response = app_api.get("/location")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["error_type"] == "too_many_requests"


def test_a_hang_outlasts_the_client_timeout_and_nothing_is_created(hubrise_sandbox, app_api):
    hubrise_sandbox.inject_fault("hang", seconds=2)

    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        app_api.post("/location/orders", ORDER, timeout=0.3)

    assert time.monotonic() - started < 1.5
    assert hubrise_sandbox.orders() == []
    assert hubrise_sandbox.requests_log()[0]["fault"] == "hang"
    assert hubrise_sandbox.requests_log()[0]["processed"] is False


def test_a_hang_after_processing_leaves_the_order_created_although_the_client_gave_up(hubrise_sandbox, app_api):
    hubrise_sandbox.inject_fault("hang", seconds=2, processed=True)

    with pytest.raises(requests.Timeout):
        app_api.post("/location/orders", ORDER, timeout=0.3)

    found = app_api.get("/location/orders", params={"private_ref": "GR-1"}).json()
    assert [order["private_ref"] for order in found] == ["GR-1"]


def test_a_drop_closes_the_connection_without_an_answer(hubrise_sandbox, app_api):
    hubrise_sandbox.inject_fault("drop")

    with pytest.raises(requests.ConnectionError):
        app_api.post("/location/orders", ORDER)

    assert hubrise_sandbox.orders() == []
    [entry] = hubrise_sandbox.requests_log()
    assert (entry["status"], entry["fault"], entry["processed"]) == (None, "drop", False)


def test_a_drop_after_processing_leaves_the_order_created(hubrise_sandbox, app_api):
    hubrise_sandbox.inject_fault("drop", processed=True)

    with pytest.raises(requests.ConnectionError):
        app_api.post("/location/orders", ORDER)

    assert len(hubrise_sandbox.orders()) == 1
    assert hubrise_sandbox.requests_log()[0]["processed"] is True


def test_a_fault_filtered_by_method_and_path_spares_other_calls(hubrise_sandbox, app_api):
    hubrise_sandbox.inject_fault("500", method="POST", path_prefix="/v1/location/orders")

    other = app_api.get("/location/orders")
    targeted = app_api.post("/location/orders", ORDER)

    assert other.status_code == 200
    assert targeted.status_code == 500


def test_reset_clears_pending_faults(hubrise_sandbox, app_api):
    hubrise_sandbox.inject_fault("500", count=5)

    hubrise_sandbox.reset()

    assert app_api.get("/location").status_code == 401  # the reset also dropped every connection
    assert hubrise_sandbox.requests_log()[0]["fault"] is None


def test_a_held_call_waits_unprocessed_until_released_then_is_carried_out(hubrise_sandbox, app_api):
    import threading

    hubrise_sandbox.inject_fault("hold", method="POST", seconds=30)
    answers = []
    call = threading.Thread(target=lambda: answers.append(app_api.post("/location/orders", ORDER)))
    call.start()
    deadline = time.monotonic() + 10
    while hubrise_sandbox.held_requests() == 0:
        assert time.monotonic() < deadline, "the call was never held"
        time.sleep(0.02)

    # In flight: HubRise has not created the order, and answers other calls meanwhile.
    assert hubrise_sandbox.orders() == []
    assert app_api.get("/location").status_code == 200
    assert hubrise_sandbox.release_held() == 1
    call.join(10)

    assert [answer.status_code for answer in answers] == [200]
    assert [order["private_refs"] for order in hubrise_sandbox.orders()] == [{hubrise_sandbox.client_id: "GR-1"}]
    [entry] = hubrise_sandbox.requests_log(method="POST")
    assert (entry["status"], entry["fault"], entry["processed"]) == (200, "hold", True)
