"""The "Today" page: the day's orders and revenue, by service type, time to ready, late orders, a chart."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from orders import selectors
from orders.charts import quarter_hour_chart
from orders.today import today_summary
from orders.views import _render


@login_required
@require_GET
def today(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = selectors.establishment_for(request.user, establishment_id)
    summary = today_summary(establishment)
    context = {
        "establishments": list(selectors.establishments_of(request.user)),
        "summary": summary,
        "chart": quarter_hour_chart(summary.quarters, establishment.tzinfo),
    }
    return _render(request, establishment, "orders/today.html", context)
