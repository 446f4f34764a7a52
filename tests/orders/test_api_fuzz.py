"""Every operation of our OpenAPI schema, fuzzed by schemathesis through the real Django app (WSGI, in process).

Each operation gets schema-valid and schema-violating requests, sent with a real API key
of a real establishment (except when the fuzzer drops the key on purpose), and every
answer must be: no 5xx, a documented status code and content type, a body that matches
the documented schema, and a 4xx for a request that violates the schema.

Two things are configured away, on purpose:
- The positive_data_acceptance check (a schema-valid body must be accepted). The intake
  API refuses some schema-valid bodies with the documented 400 naming the field, for
  rules a static schema cannot carry because they depend on the key or on another
  field (the currency must be the key's establishment's, and another establishment may
  use another; a deal_line must name a deal of the same body; table_name must agree with
  custom_fields; totals stay under 10^10) and for value rules the schema leaves out
  (quantities > 0 with at most 3 decimals, no NUL in text). Pinning the currency in the
  schema alone would leave the others; tests/orders/test_api.py covers each rule. The
  success path is still exercised: the coverage and examples phases send valid orders,
  and each 201 is checked against the response schema.
- Unknown query parameters as negative data: like most HTTP APIs, ours ignores them.

Bounded and reproducible: derandomized, no example database, a fixed number of examples.
"""

import secrets

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from orders.models import ApiKey
from tests.factories import make_establishment

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "allow-extra-parameters": False},
        "checks": {"positive_data_acceptance": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)

# Known before the key exists in the database: schemathesis builds some requests while
# collecting the tests, before any fixture has run.
KEY_PREFIX = "fuzz0001"
RAW_KEY = f"gr_{KEY_PREFIX}_{secrets.token_urlsafe(32)}"


@schema.auth(refresh_interval=None)
class EstablishmentKey:
    def get(self, case, context):
        return RAW_KEY

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Api-Key {data}"}


@pytest.fixture(autouse=True)
def app_keeps_the_test_transaction():
    # Django's own test client does the same: the real WSGI handler would close the
    # database connection after each request, and with it the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def establishment_key(db):
    establishment = make_establishment()
    ApiKey.objects.create(establishment=establishment, name="Schema fuzzing", prefix=KEY_PREFIX, key_hash=ApiKey.hash(RAW_KEY))
    return establishment


@schema.parametrize()
@settings(
    max_examples=80,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented_and_refuses_what_the_schema_forbids(case, establishment_key):
    case.call_and_validate()
