"""Guessing passwords: a burst of wrong ones locks that username from that address, and nobody else;
one password sprayed over many usernames locks the address."""

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import make_establishment, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("axes_on")]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def axes_on():
    # The test settings switch axes off so that other tests may log in freely.
    with override_settings(AXES_ENABLED=True):
        yield


@pytest.fixture
def establishment():
    return make_establishment()


def log_in(username: str, password: str, ip: str = "203.0.113.7", **headers):
    return Client(REMOTE_ADDR=ip, **headers).post(reverse("login"), {"username": username, "password": password})


def fail(username: str, times: int, ip: str = "203.0.113.7", **headers) -> list[int]:
    return [log_in(username, f"wrong-guess-{n}", ip, **headers).status_code for n in range(times)]


def test_the_limits_are_twenty_wrong_passwords_per_username_and_a_hundred_per_address():
    assert settings.AXES_FAILURE_LIMIT == 20
    assert settings.AXES_ADDRESS_FAILURE_LIMIT == 100
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"], "ip_address"]


def test_wrong_passwords_below_the_limit_only_show_the_form_again(establishment):
    make_user(establishment, "camille")

    assert set(fail("camille", settings.AXES_FAILURE_LIMIT - 1)) == {200}
    assert log_in("camille", PASSWORD).status_code == 302


def test_twenty_wrong_passwords_lock_that_username_from_that_address(establishment):
    make_user(establishment, "camille")

    statuses = fail("camille", settings.AXES_FAILURE_LIMIT)

    assert statuses[-1] == 429
    locked = log_in("camille", PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in locked.client.session


def test_a_colleague_at_the_same_address_can_still_log_in(establishment):
    make_user(establishment, "camille")
    make_user(establishment, "marc")
    fail("camille", settings.AXES_FAILURE_LIMIT)

    assert log_in("marc", PASSWORD).status_code == 302


def test_the_same_username_from_another_address_can_still_log_in(establishment):
    make_user(establishment, "camille")
    fail("camille", settings.AXES_FAILURE_LIMIT)

    assert log_in("camille", PASSWORD, ip="198.51.100.23").status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_lock(establishment):
    make_user(establishment, "camille")
    fail("camille", settings.AXES_FAILURE_LIMIT)

    assert log_in("camille", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429


def spray(usernames: range, ip: str = "203.0.113.7") -> list[int]:
    """One wrong password tried on many usernames, as a password-spraying attack does."""
    return [log_in(f"user{n}", "Spring2026!", ip).status_code for n in usernames]


def test_one_password_sprayed_over_a_hundred_usernames_locks_that_address(establishment):
    make_user(establishment, "camille")

    statuses = spray(range(settings.AXES_ADDRESS_FAILURE_LIMIT))

    assert set(statuses[:-1]) == {200}
    assert statuses[-1] == 429
    assert log_in("camille", PASSWORD).status_code == 429
    assert log_in("camille", PASSWORD, ip="198.51.100.23").status_code == 302


def test_colleagues_mistyping_at_one_till_stay_under_the_address_ceiling(establishment):
    make_user(establishment, "camille")
    for name in ("marc", "lea", "hugo", "ines"):
        make_user(establishment, name)
        fail(name, settings.AXES_FAILURE_LIMIT - 1)

    assert log_in("camille", PASSWORD).status_code == 302


def test_logging_into_an_account_of_ones_own_does_not_wipe_out_the_addresss_count(establishment):
    make_user(establishment, "camille")
    make_user(establishment, "mallory")
    spray(range(settings.AXES_ADDRESS_FAILURE_LIMIT - 1))

    assert log_in("mallory", PASSWORD).status_code == 302
    spray(range(1000, 1001))

    assert log_in("camille", PASSWORD).status_code == 429
