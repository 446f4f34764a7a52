"""The staff pages of the menu: browse it, mark what is out of stock in one tap, and (managers) edit names, prices and codes.

Every member of the establishment sees the page and changes availability; only
managers edit (403 for the others). Another establishment's ids are a 404.
Writes go through menu.services.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from menu import selectors, services
from menu.changes import KIND_LABELS
from menu.models import Menu, Option, Sku
from orders import selectors as order_selectors
from orders.models import Establishment, Membership
from orders.permissions import role_in

SEARCH_MAX_LENGTH = 100
SEARCH_LIMIT = 100
# A menu just imported may lack thousands of codes: the page lists the first ones of each kind.
MISSING_LIMIT = 200
# The sections of the page besides the categories, by the ?view= that shows them.
VIEWS = {
    "options": gettext_lazy("Options"),
    "offers": gettext_lazy("Deals, discounts, charges"),
    "service": gettext_lazy("Service and payment"),
}
MISSING_LABELS = {
    "sku": gettext_lazy("SKUs"),
    "option": gettext_lazy("options"),
    "deal": gettext_lazy("deals"),
    "discount": gettext_lazy("discounts"),
    "charge": gettext_lazy("charges"),
    "service_type": gettext_lazy("service types"),
    "payment_method": gettext_lazy("payment methods"),
}


def _member(request: HttpRequest, establishment_id: int) -> tuple[Establishment, list[Establishment], bool]:
    """The establishment, all of the user's (for the switcher), and whether the user manages it; a 404 if not a member."""
    mine = list(order_selectors.establishments_of(request.user))
    for establishment in mine:
        if establishment.pk == establishment_id:
            return establishment, mine, role_in(request.user, establishment) == Membership.Role.MANAGER
    raise Http404


def _back(request: HttpRequest, establishment: Establishment) -> str:
    back = request.POST.get("next") or request.GET.get("next") or ""
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return back
    return reverse("menu:page", args=[establishment.pk])


# --- The page ------------------------------------------------------------------------


def _unavailable(menu: Menu) -> dict:
    skus, options = selectors.unavailable_items(menu)
    return {"unavailable_skus": skus, "unavailable_options": options, "unavailable_count": len(skus) + len(options)}


@login_required
@require_GET
def menu_page(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment, establishments, can_manage = _member(request, establishment_id)
    menu = selectors.menu_of(establishment)
    context = {"establishment": establishment, "establishments": establishments, "menu": menu, "can_manage": can_manage}
    if menu is None:
        return render(request, "menu/page.html", context)
    tree = selectors.category_tree(menu)
    view = request.GET.get("view", "")
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    context.update(_unavailable(menu))
    context.update(
        {
            "tree": tree,
            "views": VIEWS.items(),
            "view": view,
            "query": query,
            "here": request.get_full_path(),
        }
    )
    if can_manage:
        counts = selectors.missing_ref_counts(menu)
        context["missing"] = [(MISSING_LABELS[kind], count) for kind, count in counts.items() if count]
        context["missing_limit"] = MISSING_LIMIT
    if query:
        context["found"] = list(selectors.search_skus(menu, query)[:SEARCH_LIMIT])
    elif view == "options":
        context["option_lists"] = selectors.option_lists_with_options(menu)
    elif view == "offers":
        context.update(selectors.offers(menu))
    elif view == "service":
        context.update(selectors.service_and_payment(menu))
    elif view == "missing" and can_manage:
        context["without_ref"] = [
            (KIND_LABELS[kind], kind, list(rows[:MISSING_LIMIT]), counts[kind])
            for kind, rows in selectors.items_without_ref(menu).items()
            if counts[kind]
        ]
    elif view:
        raise Http404
    else:
        context.update(_category_context(request, menu, tree))
    return render(request, "menu/page.html", context)


def _category_context(request: HttpRequest, menu: Menu, tree: list[selectors.CategoryEntry]) -> dict:
    """The category asked for (the first by default), with its subcategories' products under it."""
    if not tree:
        return {"category": None, "products": [], "deals": []}
    wanted = request.GET.get("category", "")
    entries = [entry for entry in tree if str(entry.category.pk) == wanted] if wanted else tree[:1]
    if not entries:
        raise Http404
    chosen = entries[0]
    start = tree.index(chosen)
    ids = [chosen.category.pk]
    for entry in tree[start + 1 :]:
        if entry.depth <= chosen.depth:
            break
        ids.append(entry.category.pk)
    return {"category": chosen.category, "products": selectors.products_in(menu, ids), "deals": selectors.deals_in(menu, ids)}


# --- One tap: available or not -------------------------------------------------------


@login_required
@require_POST
def set_availability(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment, _establishments, can_manage = _member(request, establishment_id)
    menu = get_object_or_404(Menu, establishment=establishment)
    kind = request.POST.get("kind", "")
    item_id = request.POST.get("id", "")
    available = request.POST.get("available") == "1"
    if kind not in ("sku", "option") or not item_id.isdigit():
        raise Http404
    model = Sku if kind == "sku" else Option
    get_object_or_404(model, menu=menu, pk=int(item_id))
    ids = {"sku_ids" if kind == "sku" else "option_ids": [int(item_id)]}
    services.set_availability(establishment, available=available, source=services.SOURCE_STAFF, **ids)
    item = _fresh(kind, int(item_id))
    message = (_("“%(item)s” is available again.") if available else _("“%(item)s” is marked unavailable.")) % {
        "item": item.label
    }
    if request.headers.get("HX-Request"):
        context = {
            "establishment": establishment,
            "can_manage": can_manage,
            "kind": kind,
            "item": item,
            "message": message,
            "here": _back(request, establishment),
            "version": Menu.objects.filter(pk=menu.pk).values_list("version", flat=True).first(),
            **_unavailable(menu),
        }
        return render(request, "menu/_availability_changed.html", context)
    messages.success(request, message)
    return redirect(_back(request, establishment))


def _fresh(kind: str, item_id: int) -> Sku | Option:
    if kind == "sku":
        return Sku.objects.select_related("product").prefetch_related("option_lists").get(pk=item_id)
    return Option.objects.select_related("option_list").get(pk=item_id)


# --- A manager's edits -----------------------------------------------------------------


class ItemForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    ref = forms.CharField(
        label=gettext_lazy("Ref code"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("The code your POS knows this by; it goes with every order."),
    )
    price = forms.DecimalField(
        label=gettext_lazy("Price"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def __init__(self, *args, kind: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        spec = services.KINDS[kind]
        if kind == "sku":
            self.fields["name"].required = False
            self.fields["name"].help_text = _("Size or version; empty when the product has only one.")
        self.fields["ref"].required = spec.ref_required
        self.fields["ref"].widget.attrs.update({"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})
        if not spec.has_price:
            del self.fields["price"]
        elif spec.price_optional:
            self.fields["price"].required = False
            self.fields["price"].help_text = _("Empty: varies per order.")


@login_required
@require_http_methods(["GET", "POST"])
def edit_item(request: HttpRequest, establishment_id: int, kind: str, item_id: int) -> HttpResponse:
    establishment, establishments, can_manage = _member(request, establishment_id)
    menu = get_object_or_404(Menu, establishment=establishment)
    spec = services.KINDS[kind]
    item = get_object_or_404(spec.model, menu=menu, pk=item_id)
    if not can_manage:
        raise PermissionDenied
    initial = {"name": item.name, "ref": item.ref, "price": getattr(item, "price", None)}
    form = ItemForm(request.POST or None, kind=kind, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        has_price = "price" in form.fields
        try:
            changes = services.edit_item(
                establishment,
                kind,
                item.pk,
                source=services.SOURCE_STAFF,
                name=data["name"],
                ref=data["ref"],
                price=data.get("price") if has_price else None,
                clear_price=has_price and data.get("price") is None,
            )
        except services.MenuError as error:
            for problem in error.messages:
                form.add_error(None, problem)
        else:
            if changes.changed:
                messages.success(request, _("“%(item)s” is saved.") % {"item": data["name"] or item.label})
            else:
                messages.info(request, _("Nothing to save: “%(item)s” was already so.") % {"item": item.label})
            return redirect(_back(request, establishment))
    context = {
        "establishment": establishment,
        "establishments": establishments,
        "form": form,
        "item": item,
        "kind_label": KIND_LABELS[kind],
        "back": _back(request, establishment),
    }
    return render(request, "menu/edit.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def save_settings(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment, _establishments, can_manage = _member(request, establishment_id)
    get_object_or_404(Menu, establishment=establishment)
    if not can_manage:
        raise PermissionDenied
    accepts = request.POST.get("accepts_other_prices") == "on"
    services.set_menu_settings(establishment, accepts_other_prices=accepts)
    if accepts:
        messages.success(request, _("Orders whose prices differ from the menu are now accepted."))
    else:
        messages.success(request, _("Orders must now have the menu's prices."))
    return redirect(_back(request, establishment))


@login_required
@require_GET
def menu_version(request: HttpRequest, establishment_id: int) -> HttpResponse:
    """204 while the menu is still the version the page shows; else an htmx instruction to reload the page.

    One small query every 5 s per open menu page, so that a price changed on the POS
    shows up without anyone touching the back office.
    """
    establishment, _establishments, _can_manage = _member(request, establishment_id)
    version = Menu.objects.filter(establishment=establishment).values_list("version", flat=True).first()
    if str(version) == request.GET.get("v", ""):
        return HttpResponse(status=204)
    response = HttpResponse(status=200)
    response["HX-Refresh"] = "true"
    return response
