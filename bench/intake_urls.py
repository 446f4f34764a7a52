"""The normal URLs plus /bench/bare-create/, the yardstick of bench/intake.py.

The bare view does the least an order intake can: parse the JSON body, insert one
row and answer its id in JSON (autocommit, no authentication).
"""

import json

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from orders.models import Company


@csrf_exempt
def bare_create(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return JsonResponse({"ready": True})
    body = json.loads(request.body)
    company = Company.objects.create(name=str(body.get("ref", "bench"))[:100])
    return JsonResponse({"id": company.pk}, status=201)


urlpatterns = [
    path("bench/bare-create/", bare_create),
    path("", include("getresto.urls")),
]
