"""The normal URLs plus /bench/trivial/, a GET view that does nothing: the yardstick of bench/order_list.py."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/trivial/", trivial),
    path("", include("getresto.urls")),
]
