"""Extension points of the staff pages, for apps that ``orders`` must not import.

An app such as hubrise_sync appends to these lists from its AppConfig.ready(),
so that the data its templates show per order is loaded with the page's own
queries instead of one query per row:

    from orders import extensions
    extensions.list_select_related.append("hubrise_link")
    extensions.detail_prefetch_related.append("hubrise_link__attempts")
    extensions.establishment_select_related.append("hubrise_connection")

On the order list, the establishment is loaded by the same query as the tab
counts, with ``establishment_select_related``: a template tag that reads a
one-to-one of the establishment (``establishment.hubrise_connection``) then
costs no query of its own. The list's budget is 6 queries per page in all.

Templates it can override (hubrise_sync is listed before orders in
INSTALLED_APPS, and these defaults are app templates, so its own copies win):

- ``orders/_sync_badge.html``: rendered in each row of the order list and on
  the detail page, with ``order`` and ``establishment`` in the context;
  ``compact`` is true in the list.

Several apps add to the top of every establishment page, so these are lists
rather than one template each app would fight over:

- ``establishment_menu``: entries of the top bar's menu, as (label, URL name)
  pairs, or (label, URL name, role) for an entry only members with that role
  see (``Membership.Role.MANAGER``: the team pages); the URL takes the
  establishment's id. The role comes with the page's own establishment query
  (``selectors.establishments_of`` annotates it), so it costs no query.
- ``establishment_banners``: templates rendered in turn at the top of every
  page of an establishment, with ``establishment`` in the context.
- ``order_detail_sections``: templates rendered on the order page under its
  status buttons (a ticket's print state, a courier's progress…), with
  ``order`` and ``establishment`` in the context.
- ``order_row_extras``: templates rendered in each order of the list, after its
  status and sync badge, with ``order`` and ``establishment`` in the context.
"""

# Relations joined by the order list's (and the detail page's) query.
list_select_related: list[str] = []
# Relations prefetched for the order list: one extra query each, whatever the page size.
list_prefetch_related: list[str] = []
# Relations prefetched for the detail page, on top of the order's own lines.
detail_prefetch_related: list[str] = []
# One-to-one relations of the establishment, joined by the order list's establishment query.
establishment_select_related: list[str] = []

# Entries of the establishment's menu in the top bar: (label, URL name taking the establishment id),
# and the role a member needs to see it as a third item if only some may.
establishment_menu: list[tuple[str, str] | tuple[str, str, str]] = []
# Templates shown at the top of every page of an establishment (a broken connection, a paused service…).
establishment_banners: list[str] = []
# Templates shown on the order page under its buttons, and in each order of the list.
order_detail_sections: list[str] = []
order_row_extras: list[str] = []
