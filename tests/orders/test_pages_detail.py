"""The order page: everything about the order, its history and its status buttons."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.inputs import NewCharge, NewCustomer, NewDeal, NewDiscount, NewItem, NewOption, NewOrder, NewPayment
from orders.models import Order, StatusChange
from orders.services import change_status, create_order
from orders.status import staff_transitions
from tests.factories import make_order, make_user
from tests.orders.pages import logged_in, sql_queries

pytestmark = pytest.mark.django_db
Source = StatusChange.Source


@pytest.fixture
def cook(establishment):
    return make_user(establishment, username="marc")


@pytest.fixture
def client(cook):
    return logged_in(cook)


def detail_url(order) -> str:
    return reverse("orders:detail", args=[order.establishment_id, order.pk])


def status_url(order) -> str:
    return reverse("orders:change_status", args=[order.establishment_id, order.pk])


def delivery_order(establishment):
    return create_order(
        establishment,
        NewOrder(
            ref="0777",
            service_type="delivery",
            expected_time=datetime(2026, 6, 1, 10, 45, tzinfo=UTC),
            confirmed_time=datetime(2026, 6, 1, 10, 50, tzinfo=UTC),
            items=(
                NewItem(
                    "Steak frites",
                    Decimal("18.50"),
                    Decimal("1"),
                    sku_ref="STEAK-FR",
                    customer_notes="Allergie aux arachides",
                    options=(
                        NewOption("Cuisson", "Saignant"),
                        NewOption("Accompagnement", "Haricots verts", price=Decimal("1.50")),
                        NewOption("Sauce", "Béarnaise", removed=True),
                    ),
                ),
                NewItem("Vin rouge", Decimal("26.00"), Decimal("1"), sku_name="Bouteille 75 cl"),
                NewItem("Quiche lorraine", Decimal("11.00"), Decimal("1"), deal_key="0", deal_label="Plat"),
            ),
            deals=(NewDeal(key="0", name="Formule midi", ref="FORMULE"),),
            discounts=(NewDiscount("Code BIENVENUE", Decimal("5.00"), ref="BIENVENUE"),),
            charges=(NewCharge("Frais de livraison", Decimal("3.50")),),
            payments=(NewPayment(Decimal("55.50"), name="Paiement en ligne"),),
            customer=NewCustomer(
                first_name="Chloé",
                last_name="Moreau",
                company_name="Moreau & fils",
                email="chloe@example.fr",
                phone="+33612345678",
                address_1="12 rue Victor Hugo",
                address_2="Bâtiment B",
                postal_code="75011",
                city="Paris",
                country="France",
                delivery_notes="Code porte 4521B",
            ),
            customer_notes="Sonnez deux fois",
            seller_notes="Client fidèle",
            collection_code="842",
            coupon_codes=("BIENVENUE",),
        ),
        created_at=datetime(2026, 6, 1, 10, 30, tzinfo=UTC),
    )


def test_the_page_shows_everything_needed_to_prepare_and_hand_over_the_order(client, establishment):
    order = delivery_order(establishment)

    html = client.get(detail_url(order)).content.decode()

    expected = [
        "Commande 0777",
        'class="service service-delivery">Livraison</span>',
        "<strong>Chloé Moreau</strong>",
        "01/06/2026 12:45",  # expected time, in Paris time
        "01/06/2026 12:50",  # ready time (confirmed)
        '<dd class="collection-code">842</dd>',
        "<strong>Steak frites</strong>",
        "Saignant",
        "Haricots verts",
        "(+1,50\u00a0€)",
        "sans Béarnaise",
        "<strong>Allergie\u00a0:</strong> Allergie aux arachides</p>",
        '<span class="sku">Bouteille 75 cl</span>',
        "Formule midi · Plat",
        "Remise · Code BIENVENUE",
        "−5,00\u00a0€",
        "Frais · Frais de livraison",
        "3,50\u00a0€",
        "20,00\u00a0€",  # steak line total: 18.50 + 1.50
        "55,50\u00a0€",  # total
        "Paiement en ligne",
        "<code>BIENVENUE</code>",
        "Sonnez deux fois",
        "Client fidèle",
        "Moreau &amp; fils",
        'href="tel:+33612345678"',
        "chloe@example.fr",
        "12 rue Victor Hugo<br>Bâtiment B<br>75011 Paris<br>France",
        "Code porte 4521B",
    ]
    missing = [text for text in expected if text not in html]
    assert missing == []


def test_customer_notes_and_item_notes_stand_out_and_allergies_in_red_with_an_icon(client, establishment):
    html = client.get(detail_url(delivery_order(establishment))).content.decode()

    assert '<section class="notes-important"' in html
    assert '<p class="item-note item-allergy"><svg class="icon icon-allergy"' in html


def test_customer_notes_about_an_allergy_are_shown_as_an_allergy(client, establishment):
    order = make_order(establishment, customer_notes="Allergique aux fruits à coque !")

    html = client.get(detail_url(order)).content.decode()

    assert '<section class="notes-allergy"' in html
    assert "Allergie\u00a0: notes du client" in html
    assert '<section class="notes-important"' not in html


def test_an_eat_in_order_shows_its_table_and_as_soon_as_possible(client, establishment):
    order = make_order(establishment)

    html = client.get(detail_url(order)).content.decode()

    assert '<span class="table-name">table 12</span>' in html
    assert "dès que possible" in html
    assert "Aucune coordonnée client." in html


def test_the_history_says_from_what_to_what_when_who_and_why(client, establishment, cook):
    order = make_order(establishment, ref="0005")
    change_status(order, "accepted", source=Source.STAFF, actor=cook)
    change_status(order, "cancelled", source=Source.HUBRISE, source_detail="Caisse Lightspeed", reason="Rupture de stock")

    html = client.get(detail_url(order)).content.decode()

    timeline = html[html.index('<ol class="timeline">') :]
    assert "Créée\u00a0: " in timeline
    assert "Nouvelle</span> → " in timeline
    assert "marc · Équipe" in timeline
    assert "HubRise (Caisse Lightspeed)" in timeline
    assert "Site de commande" in timeline
    assert "Motif\u00a0: Rupture de stock" in timeline
    assert timeline.index("Créée") < timeline.index("Rupture de stock")


def test_there_is_one_button_per_allowed_status_and_the_usual_next_step_comes_first(client, establishment):
    order = make_order(establishment)

    response = client.get(detail_url(order))

    actions = response.context["actions"]
    assert sorted(action["status"] for action in actions) == sorted(staff_transitions("new", "eat_in"))
    assert actions[0]["status"] == "accepted"
    html = response.content.decode()
    assert "Accepter\u00a0: prête dans" in html
    assert 'class="action secondary outline">En préparation</button>' in html
    # Each plain button, the accept form, and the two reason forms of Rejeter and Annuler (presets, other).
    assert html.count('name="expected_current" value="new"') == len(actions) + 2


def test_accept_offers_ready_in_10_to_45_minutes_with_the_preparation_time_first(client, establishment):
    establishment.preparation_time = 25
    establishment.save()
    order = make_order(establishment)

    html = client.get(detail_url(order)).content.decode()

    offered = [int(value) for value in re.findall(r'name="ready_in" value="(\d+)"', html)]
    assert offered == [10, 15, 20, 25, 30, 45]
    assert 'name="ready_in" value="25" class="action ready-in primary-action">25 min</button>' in html
    assert '<input type="time" id="ready-at" name="ready_at">' in html


def test_accept_offers_the_time_the_guest_asked_for_first_when_the_kitchen_can_make_it(client, establishment):
    order = make_order(establishment, expected_time=timezone.now() + timedelta(hours=2))
    asked = timezone.localtime(order.expected_time, establishment.tzinfo).strftime("%H:%M")

    html = client.get(detail_url(order)).content.decode()

    button = f'name="ready" value="requested" class="action ready-requested primary-action">À l’heure demandée, {asked}</button>'
    assert button in html


def test_accepting_a_pre_order_for_tomorrow_at_the_time_asked_keeps_its_day(client, establishment):
    tomorrow = timezone.now() + timedelta(days=1, hours=-3)
    order = make_order(establishment, expected_time=tomorrow)

    client.post(status_url(order), {"status": "accepted", "ready": "requested", "expected_current": "new"})

    order.refresh_from_db()
    assert (order.status, order.confirmed_time) == ("accepted", tomorrow)


def test_accepting_ready_in_20_minutes_sets_that_ready_time_and_shows_it(client, establishment, cook):
    order = make_order(establishment, ref="0010")
    before = timezone.now()

    response = client.post(status_url(order), {"status": "accepted", "ready_in": "20", "expected_current": "new"}, follow=True)

    order.refresh_from_db()
    assert order.status == "accepted"
    assert before + timedelta(minutes=20) <= order.confirmed_time <= timezone.now() + timedelta(minutes=20)
    ready = timezone.localtime(order.confirmed_time, establishment.tzinfo).strftime("%H:%M")
    html = response.content.decode()
    assert f"Prête à {ready}" in html
    assert order.ready_time_changes.get().actor == cook


def test_accepting_for_a_typed_time_that_has_passed_is_refused(client, establishment):
    order = make_order(establishment)
    earlier = (timezone.localtime(timezone.now(), establishment.tzinfo) - timedelta(minutes=30)).strftime("%H:%M")

    response = client.post(status_url(order), {"status": "accepted", "ready_at": earlier, "expected_current": "new"}, follow=True)

    order.refresh_from_db()
    assert order.status == "new"
    assert order.confirmed_time is None
    assert "Cette heure est déjà passée\u00a0: choisissez-en une plus tardive." in response.content.decode()


def test_accepting_without_a_time_never_confirms_a_time_in_the_past(client, establishment):
    # Asked for 10 minutes ago: the kitchen cannot go back in time, the usual 15 minutes apply.
    order = make_order(establishment, expected_time=timezone.now() - timedelta(minutes=10))

    client.post(status_url(order), {"status": "accepted", "expected_current": "new"})

    order.refresh_from_db()
    assert order.confirmed_time > timezone.now() + timedelta(minutes=14)


def test_delaying_pushes_the_ready_time_back_10_minutes_and_keeps_it_in_the_history(client, establishment, cook):
    order = make_order(establishment, status="accepted")
    first = order.confirmed_time

    response = client.post(reverse("orders:delay", args=[establishment.pk, order.pk]), follow=True)

    order.refresh_from_db()
    assert order.confirmed_time == first + timedelta(minutes=10)
    html = response.content.decode()
    before, after = (timezone.localtime(t, establishment.tzinfo).strftime("%H:%M") for t in (first, order.confirmed_time))
    assert f"La commande {order.ref} sera prête à {after}." in html
    assert f"Heure repoussée de {before} à {after}" in html
    assert "Retarder de 10 min" in html


def test_a_new_order_cannot_be_delayed(client, establishment):
    order = make_order(establishment)

    html = client.get(detail_url(order)).content.decode()
    response = client.post(reverse("orders:delay", args=[establishment.pk, order.pk]), follow=True)

    assert "Retarder de 10 min" not in html
    order.refresh_from_db()
    assert order.confirmed_time is None
    assert "Une commande «\u00a0Nouvelle\u00a0» n’a pas d’heure à repousser." in response.content.decode()


def test_reject_and_cancel_are_distinct_and_ask_for_a_reason_without_javascript(client, establishment):
    order = make_order(establishment)

    html = client.get(detail_url(order)).content.decode()

    for status, label in (("rejected", "Rejeter"), ("cancelled", "Annuler")):
        assert f'<summary role="button" class="action destructive outline">{label}</summary>' in html
        assert f'<textarea id="reason-{status}" name="reason" rows="2" required' in html
        assert f"Confirmer\u00a0: {label}</button>" in html
    for preset in ("Rupture de stock", "Trop de commandes", "Établissement fermé", "Adresse hors zone de livraison"):
        assert html.count(f'name="preset_reason" value="{preset}"') == 2


def test_a_preset_reason_rejects_in_one_tap(client, establishment):
    order = make_order(establishment)

    client.post(status_url(order), {"status": "rejected", "preset_reason": "Rupture de stock", "expected_current": "new"})

    order.refresh_from_db()
    assert order.status == "rejected"
    assert order.history.last().reason == "Rupture de stock"


def test_a_finished_order_has_no_buttons(client, establishment):
    order = make_order(establishment, status="completed")

    response = client.get(detail_url(order))

    assert response.context["actions"] == []
    assert 'name="status"' not in response.content.decode()


def test_a_button_changes_the_status_records_who_did_it_and_confirms(client, establishment, cook):
    order = make_order(establishment, ref="0009")

    response = client.post(status_url(order), {"status": "accepted", "expected_current": "new"}, follow=True)

    order.refresh_from_db()
    assert order.status == "accepted"
    last = order.history.last()
    assert (last.from_status, last.to_status, last.source, last.actor) == ("new", "accepted", Source.STAFF, cook)
    assert response.redirect_chain == [(detail_url(order), 302)]
    html = response.content.decode()
    assert "La commande 0009 est maintenant «\u00a0Acceptée\u00a0»." in html
    assert 'class="flash flash-success"' in html
    assert 'class="status status-big tone-recu">Acceptée</span>' in html


def test_a_transition_staff_may_not_make_is_refused_with_a_message_and_changes_nothing(client, establishment):
    order = make_order(establishment, status="completed")

    response = client.post(status_url(order), {"status": "in_preparation", "expected_current": "completed"}, follow=True)

    order.refresh_from_db()
    assert order.status == "completed"
    assert order.history.count() == 1
    html = response.content.decode()
    assert "Une commande «\u00a0Terminée\u00a0» ne peut pas passer à «\u00a0En préparation\u00a0»." in html
    assert 'class="flash flash-error" role="alert"' in html


def test_a_click_on_a_page_shown_before_the_order_changed_elsewhere_is_refused(client, establishment):
    order = make_order(establishment)
    change_status(order, "accepted", source=Source.HUBRISE)

    response = client.post(
        status_url(order), {"status": "rejected", "reason": "Trop tard", "expected_current": "new"}, follow=True
    )

    order.refresh_from_db()
    assert order.status == "accepted"
    html = response.content.decode()
    assert (
        "Votre action n’a pas été appliquée\u00a0: la commande est passée à «\u00a0Acceptée\u00a0» "
        "par HubRise (la caisse ou une autre application)."
    ) in html
    # The page shows the buttons of the order as it is now.
    assert 'name="expected_current" value="accepted"' in html
    assert 'name="expected_current" value="new"' not in html


def test_a_stale_click_says_which_colleague_changed_the_order(client, establishment):
    order = make_order(establishment)
    colleague = make_user(establishment, username="lina")
    colleague.first_name = "Lina"
    colleague.save()
    change_status(order, "in_preparation", source=Source.STAFF, actor=colleague)

    response = client.post(status_url(order), {"status": "accepted", "ready_in": "15", "expected_current": "new"}, follow=True)

    assert "la commande est passée à «\u00a0En préparation\u00a0» par Lina." in response.content.decode()


def test_rejecting_without_a_reason_is_refused(client, establishment):
    order = make_order(establishment)

    response = client.post(status_url(order), {"status": "rejected", "reason": "  ", "expected_current": "new"}, follow=True)

    order.refresh_from_db()
    assert order.status == "new"
    assert "Veuillez indiquer un motif." in response.content.decode()


def test_rejecting_with_a_reason_keeps_it_in_the_history(client, establishment):
    order = make_order(establishment, ref="0010")

    response = client.post(
        status_url(order), {"status": "rejected", "reason": "Cuisine fermée", "expected_current": "new"}, follow=True
    )

    order.refresh_from_db()
    assert order.status == "rejected"
    assert order.history.last().reason == "Cuisine fermée"
    html = response.content.decode()
    assert "La commande 0010 est maintenant «\u00a0Rejetée\u00a0»." in html
    assert "Motif\u00a0: Cuisine fermée" in html


def test_clicking_twice_on_the_same_status_is_not_an_error(client, establishment):
    order = make_order(establishment, ref="0011", status="accepted")

    response = client.post(status_url(order), {"status": "accepted", "expected_current": "new"}, follow=True)

    assert order.history.count() == 1
    assert "La commande 0011 était déjà «\u00a0Acceptée\u00a0»." in response.content.decode()


def test_a_status_change_that_does_not_say_what_the_page_showed_is_refused(client, establishment):
    order = make_order(establishment, ref="0012")

    response = client.post(status_url(order), {"status": "accepted"}, follow=True)

    order.refresh_from_db()
    assert order.status == "new"
    assert order.history.count() == 1
    assert "La page n’a pas dit quel statut elle montrait" in response.content.decode()


def test_an_unknown_status_is_refused_with_a_message(client, establishment):
    order = make_order(establishment)

    response = client.post(status_url(order), {"status": "eaten", "expected_current": "new"}, follow=True)

    order.refresh_from_db()
    assert order.status == "new"
    assert "Statut inconnu\u00a0: eaten." in response.content.decode()


def test_the_status_change_returns_to_a_local_next_page_but_never_to_another_site(client, establishment):
    order = make_order(establishment)
    back_to_list = reverse("orders:list", args=[establishment.pk]) + "?tab=recu"

    local = client.post(status_url(order), {"status": "accepted", "expected_current": "new", "next": back_to_list})
    foreign = client.post(
        status_url(order), {"status": "in_preparation", "expected_current": "accepted", "next": "https://evil.example/"}
    )

    assert local["Location"] == back_to_list
    assert foreign["Location"] == detail_url(order)


def test_the_status_change_only_accepts_post(client, establishment):
    order = make_order(establishment)

    assert client.get(status_url(order)).status_code == 405


def test_the_live_status_tells_when_the_order_changed_since_the_page_was_shown(
    client, establishment, django_capture_on_commit_callbacks
):
    order = make_order(establishment)
    live = reverse("orders:detail_live", args=[establishment.pk, order.pk])

    unchanged = client.get(live + "?shown=new").content.decode()
    # Screens learn of a change once it is committed (orders.screen_versions).
    with django_capture_on_commit_callbacks(execute=True):
        change_status(order, "accepted", source=Source.HUBRISE)
    changed = client.get(live + "?shown=new").content.decode()

    assert "changé pendant que vous la consultiez" not in unchanged
    assert ">Nouvelle</span>" in unchanged
    assert (
        "Cette commande a changé pendant que vous la consultiez\u00a0: elle est passée à «\u00a0Acceptée\u00a0» "
        "par HubRise (la caisse ou une autre application)."
    ) in changed
    assert "<html" not in changed


def test_the_detail_page_polls_its_live_status_or_listens_to_its_stream(client, establishment, settings):
    order = make_order(establishment)
    settings.LIVE_STREAM_URL = "http://127.0.0.1:8001"

    html = client.get(detail_url(order)).content.decode()

    live = f'hx-get="/e/{establishment.pk}/orders/{order.pk}/live/?shown=new" hx-trigger="every 3s, live-changed"'
    assert live in html
    assert f'data-stream="http://127.0.0.1:8001/e/{establishment.pk}/orders/{order.pk}/live/stream/"' in html


def test_the_detail_page_makes_as_many_queries_for_a_big_order_as_for_a_small_one(client, establishment):
    small = make_order(establishment)
    with sql_queries() as small_order:
        client.get(detail_url(small))
    big = delivery_order(establishment)
    for status in ("accepted", "in_preparation", "awaiting_shipment"):
        change_status(big, status, source=Source.SYSTEM)

    with sql_queries() as big_order:
        assert client.get(detail_url(big)).status_code == 200

    assert len(small_order) > 0
    assert len(big_order) == len(small_order)


def test_opening_an_order_ends_its_highlight_in_the_list_once_and_for_all(client, establishment):
    order = make_order(establishment, ref="0007")
    list_page = reverse("orders:list", args=[establishment.pk])
    assert 'class="tag tag-unopened"' in client.get(list_page).content.decode()

    client.get(detail_url(order))
    first_opened = Order.objects.get(pk=order.pk).first_opened_at
    client.get(detail_url(order))

    assert first_opened is not None
    assert Order.objects.get(pk=order.pk).first_opened_at == first_opened
    assert 'class="tag tag-unopened"' not in client.get(list_page).content.decode()
