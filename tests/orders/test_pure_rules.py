"""Pure rules of the pass: allergy notes, phone numbers, ready times, French "of <name>"."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from orders.allergens import mentions_allergy
from orders.phones import InvalidPhoneNumber, search_forms, to_e164
from orders.ready_time import PastReadyTime, default_ready_time, ready_choices, ready_time_at
from orders.templatetags.backoffice import of_name

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 6, 12, 10, 0, tzinfo=UTC)  # 12:00 in Paris


@pytest.mark.parametrize(
    "note",
    [
        "Allergie aux fruits à coque",
        "ALLERGIQUE au lait",
        "nut allergy!",
        "Allergic to shellfish",
        "Sans gluten s'il vous plaît",
        "coeliaque",
        "Cœliaque",
        "celiac",
        "pas d'arachides",
        "Intolérance au lactose",
        "sésame",
        "no peanuts",
        "Noix de cajou interdites",
        "anaphylaxie possible, epipen sur moi",
    ],
)
def test_a_note_that_mentions_an_allergy_is_recognised(note):
    assert mentions_allergy(note)


@pytest.mark.parametrize(
    "note",
    ["", None, "Pas d'oignons", "Bien cuit", "Sans sel", "donut au sucre", "Amandine en dessert", "Sauce à part", "Soyeux"],
)
def test_an_ordinary_note_is_not_an_allergy(note):
    assert not mentions_allergy(note)


@pytest.mark.parametrize(
    ("typed", "country", "stored"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+33 6 12 34 56 78", "FR", "+33612345678"),
        ("0033612345678", "FR", "+33612345678"),
        ("06.12.34.56.78", "FR", "+33612345678"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "FR", "+442079460958"),
    ],
)
def test_phone_numbers_are_stored_in_e164_for_the_establishments_country(typed, country, stored):
    assert to_e164(typed, country) == stored


@pytest.mark.parametrize("typed", ["12", "0612", "not a number", "+33 1", "06 12 34 56 78 90 12"])
def test_an_impossible_phone_number_is_refused(typed):
    with pytest.raises(InvalidPhoneNumber):
        to_e164(typed, "FR")


def test_a_phone_search_looks_for_the_national_and_the_international_form():
    assert search_forms("06 12 34", "FR") == ["061234", "+3361234"]
    assert search_forms("+33 6 12", "FR") == ["+33612"]
    assert search_forms("Martin", "FR") is None
    assert search_forms("12", "FR") is None


def test_the_default_ready_time_is_the_guests_time_when_the_kitchen_can_make_it():
    asked = NOW + timedelta(hours=1)

    assert default_ready_time(NOW, asked, 15) == asked
    assert default_ready_time(NOW, NOW + timedelta(minutes=5), 15) == NOW + timedelta(minutes=15)
    assert default_ready_time(NOW, NOW - timedelta(minutes=30), 15) == NOW + timedelta(minutes=15)
    assert default_ready_time(NOW, None, 20) == NOW + timedelta(minutes=20)


def test_the_ready_buttons_include_the_preparation_time_and_put_it_first_unless_the_guest_asked_later():
    choices = ready_choices(NOW, None, 25)
    assert choices.minutes == (10, 15, 20, 25, 30, 45)
    assert choices.default_minutes == 25
    assert choices.requested is None

    later = ready_choices(NOW, NOW + timedelta(hours=2), 15)
    assert later.default_minutes is None
    assert later.requested == NOW + timedelta(hours=2)

    too_soon = ready_choices(NOW, NOW + timedelta(minutes=5), 15)
    assert too_soon.default_minutes == 15
    assert too_soon.requested == NOW + timedelta(minutes=5)


def test_a_typed_time_is_today_tomorrow_after_midnight_and_refused_when_just_past():
    assert ready_time_at(time(12, 30), NOW, PARIS) == datetime(2026, 6, 12, 12, 30, tzinfo=PARIS)
    late_evening = datetime(2026, 6, 12, 21, 50, tzinfo=UTC)  # 23:50 in Paris
    assert ready_time_at(time(0, 15), late_evening, PARIS) == datetime(2026, 6, 13, 0, 15, tzinfo=PARIS)
    with pytest.raises(PastReadyTime):
        ready_time_at(time(11, 30), NOW, PARIS)


def test_of_name_contracts_french_articles():
    with translation.override("fr"):
        assert of_name("Le Petit Bistrot") == "du Petit Bistrot"
        assert of_name("La Brasserie du Port") == "de la Brasserie du Port"
        assert of_name("Les Halles") == "des Halles"
        assert of_name("L’Escale") == "de l’Escale"
        assert of_name("Chez Paul") == "de Chez Paul"
        assert of_name("Au Bon Coin") == "d’Au Bon Coin"
    with translation.override("en"):
        assert of_name("Le Petit Bistrot") == "of Le Petit Bistrot"
