"""The order list: four tabs with counts, rows, sort, search, pagination, alerts."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from orders import extensions, selectors, services
from orders.inputs import NewCustomer, NewItem
from orders.models import Order
from orders.status import TAB_STATUSES, OrderStatus, Tab
from tests.factories import make_establishment, make_order, make_user
from tests.orders.pages import logged_in, order_at, shown_refs, sql_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(establishment):
    return logged_in(make_user(establishment))


def list_url(establishment, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("orders:list", args=[establishment.pk]) + (f"?{query}" if query else "")


def test_every_status_is_listed_in_its_tab_and_the_tabs_show_their_counts(client, establishment):
    for status in OrderStatus.values:
        make_order(establishment, status=status, ref=f"R-{status}")

    for tab, statuses in TAB_STATUSES.items():
        response = client.get(list_url(establishment, tab=tab.value))
        assert response.status_code == 200
        assert sorted(shown_refs(response)) == sorted(f"R-{status}" for status in statuses)
        assert response.context["tabs"] == [(t, len(TAB_STATUSES[t])) for t in Tab]


def test_the_tabs_have_their_french_names_and_the_received_one_is_the_default(client, establishment):
    make_order(establishment, ref="0001")

    response = client.get(list_url(establishment))

    html = response.content.decode()
    for label in ("Reçu", "En préparation", "Terminé", "Annulé"):
        assert f'<span class="tab-label">{label}</span>' in html
    assert response.context["tab"] == Tab.RECEIVED
    assert 'class="tab tab-recu has-orders" aria-current="page"' in html


def test_a_card_shows_ref_times_service_customer_dishes_total_and_status_in_the_establishment_time_zone(client, establishment):
    establishment.timezone = "Asia/Tokyo"
    establishment.save()
    placed = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=3)
    order = order_at(establishment, placed, ref="0042", customer=NewCustomer(first_name="Léa", last_name="Martin"))

    html = client.get(list_url(establishment)).content.decode()

    assert f'<a href="/e/{establishment.pk}/orders/{order.pk}/" class="ref card-link">0042</a>' in html
    local = timezone.localtime(placed, establishment.tzinfo).strftime("%H:%M")
    # The page's script keeps "3 min" current from the moment it counts from.
    assert f'passée à {local} · il y a <span data-since="{int(placed.timestamp())}">3 min</span>' in html
    assert "dès que possible" in html
    assert 'Sur place</span> · <span class="table-name">table 12</span></span>' in html
    assert '<span class="customer">Léa Martin</span>' in html
    assert "<li>2\u00a0×\u00a0Croque-monsieur</li>" in html
    assert "21,00\u00a0€" in html
    assert ">Nouvelle</span>" in html


def test_a_card_shows_the_first_dishes_with_their_quantities_and_how_many_more(client, establishment):
    dishes = tuple(
        NewItem(name, Decimal("5.00"), Decimal(quantity), sku_name=sku)
        for name, quantity, sku in (
            ("Croque-monsieur", "2", ""),
            ("Café", "1", "Expresso"),
            ("Tarte Tatin", "0.5", ""),
            ("Limonade", "1", ""),
            ("Crème brûlée", "3", ""),
        )
    )
    make_order(establishment, items=dishes)
    make_order(establishment, items=dishes[:4])

    html = client.get(list_url(establishment)).content.decode()

    first_three = (
        "<li>2\u00a0×\u00a0Croque-monsieur</li><li>1\u00a0×\u00a0Café (Expresso)</li><li>0,5\u00a0×\u00a0Tarte Tatin</li>"
    )
    assert html.count(first_three) == 2
    assert '<li class="more">+2 autres</li>' in html
    # Four lines fit: "+1 autre" would take the room of the line it hides.
    assert "<li>1\u00a0×\u00a0Limonade</li></ul>" in html


def test_an_allergy_in_a_note_is_flagged_in_red_on_the_card_an_ordinary_note_in_yellow(client, establishment):
    make_order(establishment, ref="ALLERGY", customer_notes="Allergie aux noix")
    make_order(
        establishment,
        ref="ITEMNOTE",
        items=(NewItem("Salade", Decimal("9.00"), Decimal("1"), customer_notes="sans gluten svp"),),
    )
    make_order(establishment, ref="ONIONS", customer_notes="Pas d'oignons")

    html = client.get(list_url(establishment)).content.decode()

    assert html.count('<span class="tag tag-allergy">') == 2
    assert html.count("has-allergy") == 2
    assert html.count('<span class="tag tag-note">Note</span>') == 1


def test_collection_and_delivery_orders_say_so(client, establishment):
    make_order(establishment, ref="C1", service_type="collection", table_name="")
    make_order(establishment, ref="D1", service_type="delivery", table_name="")

    html = client.get(list_url(establishment)).content.decode()

    assert 'class="service service-collection">À emporter</span>' in html
    assert 'class="service service-delivery">Livraison</span>' in html


def test_active_tabs_put_the_soonest_due_first_counting_as_soon_as_possible_from_when_it_was_placed(client, establishment):
    now = timezone.now()
    order_at(establishment, now - timedelta(minutes=1), ref="LATER", expected_time=now + timedelta(minutes=30))
    order_at(establishment, now - timedelta(minutes=10), ref="ASAP")
    order_at(establishment, now - timedelta(minutes=2), ref="SOON", expected_time=now + timedelta(minutes=5))
    order_at(establishment, now - timedelta(minutes=20), ref="OVERDUE", expected_time=now - timedelta(minutes=15))

    assert shown_refs(client.get(list_url(establishment))) == ["OVERDUE", "ASAP", "SOON", "LATER"]


def test_finished_tabs_put_the_newest_order_first(client, establishment):
    now = timezone.now()
    for minutes, ref in ((30, "OLD"), (5, "NEWEST"), (10, "MIDDLE")):
        order_at(establishment, now - timedelta(minutes=minutes), ref=ref, status="completed", expected_time=now)

    assert shown_refs(client.get(list_url(establishment, tab="termine"))) == ["NEWEST", "MIDDLE", "OLD"]


def test_search_finds_an_order_by_ref_customer_name_or_phone_in_every_tab(client, establishment):
    make_order(establishment, ref="0101", status="completed", customer=NewCustomer(first_name="Inès", last_name="Durand"))
    make_order(establishment, ref="0102", customer=NewCustomer(first_name="Hugo", phone="+33612345678"))
    make_order(establishment, ref="0203", status="cancelled", customer=NewCustomer(first_name="Zoé", last_name="Petit"))

    assert shown_refs(client.get(list_url(establishment, q="0101"))) == ["0101"]
    assert shown_refs(client.get(list_url(establishment, q="durand"))) == ["0101"]
    assert shown_refs(client.get(list_url(establishment, q="zoé petit"))) == ["0203"]
    assert shown_refs(client.get(list_url(establishment, q="0612345678"))) == ["0102"]
    assert sorted(shown_refs(client.get(list_url(establishment, q="01")))) == ["0101", "0102"]


def test_a_search_without_matches_says_so(client, establishment):
    make_order(establishment, ref="0001")

    response = client.get(list_url(establishment, q="introuvable"))

    assert shown_refs(response) == []
    assert "Aucune commande ne correspond à cette recherche." in response.content.decode()


def next_link(response) -> str:
    page = response.context["page"]
    return f"?{response.context['filters']}&cursor={page.next_cursor}" if page.has_next else ""


def previous_link(response) -> str:
    page = response.context["page"]
    return f"?{response.context['filters']}&cursor={page.previous_cursor}" if page.has_previous else ""


def test_the_list_is_paginated_with_next_and_previous_links_that_keep_the_tab(client, establishment):
    now = timezone.now()
    for minute in range(30):
        order_at(establishment, now - timedelta(minutes=minute), ref=f"P{minute:02d}", status="in_preparation")
    base = reverse("orders:list", args=[establishment.pk])

    first = client.get(list_url(establishment, tab="en-preparation"))
    second = client.get(base + next_link(first))
    back = client.get(base + previous_link(second))

    assert len(shown_refs(first)) == 25
    assert shown_refs(second) == [f"P{minute:02d}" for minute in range(4, -1, -1)]
    assert set(shown_refs(first)).isdisjoint(shown_refs(second))
    assert shown_refs(back) == shown_refs(first)
    html = first.content.decode()
    assert f'href="?tab=en-preparation&amp;cursor={first.context["page"].next_cursor}"' in html
    assert "Suivantes" in html and "Précédentes" not in html
    assert "Page 1 sur 2" in html
    assert "Page 2 sur 2" in second.content.decode()
    assert "Précédentes" in second.content.decode() and "Suivantes" not in second.content.decode()


def test_paging_never_skips_nor_repeats_orders_due_at_the_same_time(client, establishment):
    due = timezone.now() + timedelta(minutes=30)
    for number in range(60):
        make_order(establishment, ref=f"S{number:02d}", expected_time=due)
    base = reverse("orders:list", args=[establishment.pk])

    seen = []
    response = client.get(list_url(establishment))
    while True:
        seen += shown_refs(response)
        if not response.context["page"].has_next:
            break
        response = client.get(base + next_link(response))

    assert seen == [f"S{number:02d}" for number in range(60)]
    assert "Page 3 sur 3" in response.content.decode()


def test_a_deep_page_is_read_from_its_cursor_without_offset(client, establishment):
    now = timezone.now()
    for minute in range(60):
        order_at(establishment, now - timedelta(minutes=minute), ref=f"D{minute:02d}", status="completed")
    base = reverse("orders:list", args=[establishment.pk])
    second = client.get(base + next_link(client.get(list_url(establishment, tab="termine"))))

    with sql_queries() as queries:
        third = client.get(base + next_link(second))

    assert shown_refs(third) == [f"D{minute:02d}" for minute in range(50, 60)]
    assert queries and not any("OFFSET" in sql.upper() for sql in queries)


def test_a_tampered_cursor_shows_the_first_page(client, establishment):
    make_order(establishment, ref="ONLY")

    for cursor in ("garbage", "bi4xLjI", "x" * 500):
        response = client.get(list_url(establishment, cursor=cursor))
        assert response.status_code == 200
        assert shown_refs(response) == ["ONLY"]


def test_going_back_after_orders_left_the_tab_lands_on_the_first_page(client, establishment):
    orders = [
        make_order(establishment, ref=f"B{number:02d}", expected_time=timezone.now() + timedelta(minutes=number))
        for number in range(30)
    ]
    base = reverse("orders:list", args=[establishment.pk])
    second = client.get(base + next_link(client.get(list_url(establishment))))
    for order in orders[:20]:
        services.change_status(order, "in_preparation", source="hubrise")

    back = client.get(base + previous_link(second))

    assert shown_refs(back) == [f"B{number:02d}" for number in range(20, 30)]
    assert back.context["page"].number == 1
    assert not back.context["page"].has_previous


def test_search_results_are_paged_newest_first_with_a_bounded_query(client, establishment):
    now = timezone.now()
    for minute in range(30):
        order_at(establishment, now - timedelta(minutes=minute), ref=f"Q{minute:02d}", status="completed")
    base = reverse("orders:list", args=[establishment.pk])

    with sql_queries() as queries:
        first = client.get(list_url(establishment, q="Q"))
    second = client.get(base + next_link(first))

    assert shown_refs(first) == [f"Q{minute:02d}" for minute in range(25)]
    assert shown_refs(second) == [f"Q{minute:02d}" for minute in range(25, 30)]
    assert "Page 2" in second.content.decode()
    order_queries = [sql for sql in queries if "LIKE" in sql]
    assert order_queries and all("LIMIT 26" in sql for sql in order_queries)


# User, the establishments with the tab counts and alerts, the page of orders,
# their dishes (one query for the page): what the list itself costs, whatever
# other apps add for their badges. The session comes from Redis (getresto.sessions).
LIST_QUERIES = 4


def own_queries(captured) -> list[str]:
    """The queries of the orders app, a prepared statement's EXECUTE read as the statement it runs."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        prepared = dict(cursor.fetchall())
    statements = [prepared.get(sql.split()[1], sql) if sql.startswith("EXECUTE ") else sql for sql in captured]
    return [sql for sql in statements if 'FROM "hubrise_sync_' not in sql and 'FROM "printing_' not in sql]


@pytest.mark.parametrize("view", ["orders:list", "orders:list_live"])
def test_the_list_makes_the_same_few_queries_whatever_the_page_size(
    client, establishment, view, django_capture_on_commit_callbacks
):
    url = reverse(view, args=[establishment.pk])
    make_order(establishment)
    client.get(url)  # the connection's first list prepares its statements
    with sql_queries() as one_order:
        client.get(url + "?tab=recu")
    # Committed, as far as the live refresh can tell (orders.screen_versions copies versions on commit).
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(30):
            make_order(establishment)

    with sql_queries() as full_page:
        response = client.get(url)

    assert len(shown_refs(response)) == 25
    assert len(full_page) == len(one_order)
    assert len(own_queries(full_page)) == LIST_QUERIES


def test_a_deep_page_and_a_search_cost_the_same_queries_as_the_first_page(client, establishment):
    now = timezone.now()
    for minute in range(60):
        order_at(establishment, now - timedelta(minutes=minute), status="completed")
    base = reverse("orders:list", args=[establishment.pk])
    # Once before counting: the first render on a connection prepares the tab's statement (getresto.statements),
    # one PREPARE more, or not, depending on what ran on that connection before this test.
    client.get(list_url(establishment, tab="termine"))
    with sql_queries() as first_page:
        first = client.get(list_url(establishment, tab="termine"))
    second = client.get(base + next_link(first))

    with sql_queries() as deep_page:
        client.get(base + next_link(second))
    with sql_queries() as search:
        client.get(list_url(establishment, q="0"))

    assert len(deep_page) == len(search) == len(first_page)


def test_relations_registered_by_other_apps_are_loaded_with_the_list(establishment, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(extensions, "list_select_related", ["establishment__company"])
    monkeypatch.setattr(extensions, "list_prefetch_related", ["history"])
    for number in range(3):
        make_order(establishment, ref=f"R{number}")

    # The page, its dishes, the registered relation: one query each, whatever the number of rows (once the
    # connection has prepared the last two).
    selectors.list_page(selectors.orders_of(establishment), Tab.RECEIVED, None, 25)
    with django_assert_num_queries(3):
        page = selectors.list_page(selectors.orders_of(establishment), Tab.RECEIVED, None, 25)

    with django_assert_num_queries(0):
        shown = {
            order.ref: (
                order.establishment.company.name,
                [item.product_name for item in order.items.all()],
                len(order.history.all()),
            )
            for order in page.object_list
        }
    assert shown == {f"R{number}": (establishment.company.name, ["Croque-monsieur"], 1) for number in range(3)}
    # And each row's prefetched rows point back to it without a query.
    with django_assert_num_queries(0):
        assert all(change.order is order for order in page.object_list for change in order.history.all())


def test_an_order_past_its_ready_time_is_marked_late(client, establishment):
    now = timezone.now()
    # Accepted 30 minutes ago: ready 15 minutes later (the preparation time), so 15 minutes late now.
    order_at(establishment, now - timedelta(minutes=30), ref="LATE", status="accepted", expected_time=now - timedelta(minutes=20))
    order_at(establishment, now - timedelta(minutes=5), ref="ON", status="accepted", expected_time=now + timedelta(minutes=20))

    html = client.get(list_url(establishment)).content.decode()

    assert html.count(" overdue") == 1
    assert html.count('data-card-class="overdue">En retard</span>') == 1
    # The other one is marked by the page itself when its time comes, without waiting for a render.
    ready_at = int(Order.objects.get(ref="ON").expected_time.timestamp())
    assert html.count(f'data-from="{ready_at}" data-card-class="overdue" hidden>En retard</span>') == 1


def test_an_order_still_new_after_five_minutes_raises_an_alert_on_every_tab(client, establishment):
    order_at(establishment, timezone.now() - timedelta(minutes=6), ref="WAITING")
    order_at(establishment, timezone.now() - timedelta(minutes=2), ref="FRESH")

    received = client.get(list_url(establishment)).content.decode()
    completed = client.get(list_url(establishment, tab="termine")).content.decode()

    assert "1 nouvelle commande attend depuis plus de 5 minutes." in received
    assert "1 nouvelle commande attend depuis plus de 5 minutes." in completed
    assert received.count('data-card-class="waiting">Pas encore acceptée</span>') == 1
    assert received.count('data-card-class="waiting" hidden>Pas encore acceptée</span>') == 1
    # And when the fresh one will be waiting too: the page counts it in the alert then, whatever the tab.
    fresh_from = int(Order.objects.get(ref="FRESH").created_at.timestamp()) + 300
    assert f'data-waiting-now="1" data-waiting-from="{fresh_from}"' in completed


def test_no_alert_when_new_orders_are_recent(client, establishment):
    order_at(establishment, timezone.now() - timedelta(minutes=2))

    html = client.get(list_url(establishment)).content.decode()

    assert '<p class="alert-waiting" role="alert"' in html
    assert re.search(r'<p class="alert-waiting" role="alert" [^>]* hidden>\s*<strong></strong>', html)


def test_older_orders_show_their_date(client, establishment):
    order_at(establishment, datetime(2025, 3, 14, 11, 30, tzinfo=UTC), status="completed", ref="OLD")

    html = client.get(list_url(establishment, tab="termine")).content.decode()

    assert "12:30" in html
    assert "14/03/2025" in html


def test_an_unknown_tab_is_not_found(client, establishment):
    assert client.get(list_url(establishment, tab="nope")).status_code == 404


def test_the_live_fragment_has_the_tabs_and_rows_without_the_page_around_them(client, establishment):
    make_order(establishment, ref="LIVE1")

    response = client.get(reverse("orders:list_live", args=[establishment.pk]) + "?tab=recu")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="live-list"')
    assert 'hx-trigger="every 3s, live-changed"' in html
    # No stream process configured: the page's stream is asked of this very origin, which answers 204 (it polls).
    assert f'data-stream="/e/{establishment.pk}/orders/live/stream/"' in html
    assert ">LIVE1</a>" in html
    assert "<html" not in html


def test_the_live_fragment_asks_for_a_full_reload_once_the_session_has_expired(establishment):
    from django.test import Client

    response = Client().get(reverse("orders:list_live", args=[establishment.pk]))

    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"


def test_the_list_page_polls_its_live_fragment_with_the_same_filters(client, establishment):
    html = client.get(list_url(establishment, tab="termine")).content.decode()

    assert f'hx-get="/e/{establishment.pk}/orders/live/?tab=termine"' in html


def test_orders_of_other_establishments_are_never_listed(client, establishment):
    make_order(make_establishment("Ailleurs"), ref="FOREIGN")
    make_order(establishment, ref="MINE")

    response = client.get(list_url(establishment))

    assert shown_refs(response) == ["MINE"]
    assert response.context["tabs"][0] == (Tab.RECEIVED, 1)
    assert Order.objects.count() == 2


def test_the_live_fragment_tells_the_page_about_the_newest_order_nobody_opened_whatever_the_tab(client, establishment):
    make_order(establishment, ref="SEEN")
    services.mark_opened(Order.objects.get(ref="SEEN"))
    newest = make_order(establishment, ref="FRESH")

    html = client.get(reverse("orders:list_live", args=[establishment.pk]) + "?tab=termine").content.decode()

    assert f'data-latest-unopened="{newest.pk}" data-unopened="1"' in html


def test_the_list_page_has_the_sound_toggle_and_the_chime_it_plays(client, establishment):
    import wave
    from pathlib import Path

    from django.conf import settings

    html = client.get(list_url(establishment)).content.decode()

    assert 'id="sound-toggle"' in html and "Activer le son" in html
    assert 'data-sound="/static/sounds/new-order.wav"' in html
    with wave.open(str(Path(settings.BASE_DIR) / "static" / "sounds" / "new-order.wav")) as chime:
        assert 0.2 < chime.getnframes() / chime.getframerate() < 1.0
