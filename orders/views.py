from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from orders import selectors
from orders.status import Tab


@login_required
def home(request: HttpRequest) -> HttpResponse:
    establishment = selectors.establishments_of(request.user).first()
    if establishment is None:
        raise Http404
    return redirect("orders:list", establishment_id=establishment.pk)


@login_required
def order_list(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = selectors.establishment_for(request.user, establishment_id)
    try:
        tab = Tab(request.GET.get("tab", Tab.RECEIVED))
    except ValueError:
        raise Http404 from None
    return render(
        request,
        "orders/order_list.html",
        {
            "establishment": establishment,
            "tab": tab,
            "counts": selectors.tab_counts(establishment),
            "orders": selectors.orders_in_tab(establishment, tab)[:50],
        },
    )
