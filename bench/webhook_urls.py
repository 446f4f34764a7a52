"""The normal URLs plus /bench/baseline/, a view that does nothing: the yardstick of bench/webhook.py."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def baseline(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"received": len(request.body)})


urlpatterns = [
    path("bench/baseline/", baseline),
    path("", include("getresto.urls")),
]
