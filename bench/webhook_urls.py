"""The normal URLs plus /bench/baseline/, the yardstick of bench/webhook.py.

The baseline does the least a webhook can do: check the HMAC of the body, read
the order id from it and run one indexed UPDATE (autocommit).
"""

import json

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from hubrise_sync import inbound
from hubrise_sync.models import OrderLink


@csrf_exempt
def baseline(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return JsonResponse({"ready": True})
    if not inbound.signature_is_valid(request.body, request.headers.get(inbound.SIGNATURE_HEADER)):
        return JsonResponse({"detail": "bad signature"}, status=401)
    body = json.loads(request.body)
    touched = OrderLink.objects.filter(location_id=body["location_id"], hubrise_order_id=body["order_id"]).update(
        location_id=body["location_id"]
    )
    return JsonResponse({"touched": touched})


urlpatterns = [
    path("bench/baseline/", baseline),
    path("", include("getresto.urls")),
]
