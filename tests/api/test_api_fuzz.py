"""Schemathesis over the whole API, on the backend under test: every operation of the
OpenAPI document, with every check schemathesis has (no server error, status codes,
content types, response schemas and headers as documented, schema-invalid data refused,
schema-valid data accepted, Allow on 405, ...), authenticated as an admin, and every read
again as read-only (whose answers mask customers' personal data: still the documented
ones), then, as the admin, its stateful run, which chains calls through the links it
infers (a created order's id into its operations).

Bounded: OMNIHUB_FUZZ_EXAMPLES examples per operation (default 25), a few dozen stateful
scenarios, so each backend's run stays within a few minutes. A failure prints the case
and a curl line to replay it.

One allowance, on purpose: schema-valid data may be answered 422 when it names what the
hub does not know or refuses by its rules (an unknown SKU, a time zone that does not
exist, a GTIN with a wrong check digit, too little stock): the schema cannot say which
SKUs exist. Such answers are still problem+json with the field at fault. And signing in:
a wrong password is 401, and the generated wrong ones soon throttle the address (429).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from hypothesis.stateful import run_state_machine_as_test
from fastapi.testclient import TestClient
from schemathesis.config import SchemathesisConfig

from omnihub.entrypoints.api.app import create_app
from tests.conftest import add_location, add_skus, issue_token

EXAMPLES = int(os.environ.get("OMNIHUB_FUZZ_EXAMPLES", "25"))
CONFIG = {
    "generation": {"max-examples": EXAMPLES},
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2XX", "401", "403", "404", "409", "422"]}},
    "operations": [{"include-path": "/api/v1/session/login", "checks": {"positive_data_acceptance": {
        "expected-statuses": ["2XX", "401", "429"]}}}],
}
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                database=None)


AN_ORDER = {"channel": "shopify", "external_id": "1001", "lines": [{"sku": "A", "quantity": 1}],
            "customer": {"email": "ana.buyer@example.com", "phone": "+1 415 555 0175"}, "notes": "ring twice",
            "shipping_address": {"line1": "1 Main St", "city": "Newark", "postal_code": "07102", "country": "US"}}


def _schema(hub, token: str):
    """A small estate (what the generated calls can find), the app on it, and its schema,
    every call carrying `token`."""
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"], lat=40.73, lng=-74.17)
    add_location(hub, "ST", kind="store", lat=40.72, lng=-74.0)
    add_skus(hub, "A", "B", "0")
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True)
    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    hub.inventory.receive("A", "WH", 50)
    hub.inventory.receive("0", "ST", 50)
    app = create_app(hub=hub)
    with TestClient(app, headers={"Authorization": f"Bearer {issue_token(hub, 'admin')}"}) as admin:
        made = admin.post("/api/v1/orders", json=AN_ORDER)  # a buyer for the reads to show, or to mask
        assert made.status_code == 201, made.text
    authenticated = {**CONFIG, "headers": {"Authorization": f"Bearer {token}"}}
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, config=SchemathesisConfig.from_dict(authenticated))


@pytest.fixture
def api_schema(hub):
    return _schema(hub, issue_token(hub, "admin"))


@pytest.fixture
def read_only_schema(hub):
    return _schema(hub, issue_token(hub, "read_only"))


schema = schemathesis.pytest.from_fixture("api_schema")
#: read-only's reads (its writes are 403 problem+json before their bodies are read: the
#: access matrix tries each of them, tests/api/test_access_matrix.py)
read_only = schemathesis.pytest.from_fixture("read_only_schema").include(method="GET").include(path="/api/v1/atp/bulk")


@schema.parametrize()
@FUZZ
def test_every_operation_passes_every_check(case):
    case.call_and_validate()


@read_only.parametrize()
@FUZZ
def test_every_operation_passes_every_check_as_read_only(case):
    case.call_and_validate()


@pytest.mark.parametrize("role", ["admin", "read_only"])
def test_an_orders_buyer_shown_or_masked_is_the_documented_answer(hub, role):
    """The fuzzer seldom guesses an order's id: the order and the list of orders, as a
    role that sees the buyer and as one that sees it masked, checked as every case is."""
    token = issue_token(hub, role)
    api, auth = _schema(hub, token), {"Authorization": f"Bearer {token}"}
    listed = api["/api/v1/orders"]["GET"].Case(headers=auth).call_and_validate()
    [order] = listed.json()["items"]
    one = api["/api/v1/orders/{order_id}"]["GET"].Case(path_parameters={"order_id": order["id"]},
                                                        headers=auth).call_and_validate()
    assert one.status_code == 200, one.text
    assert ("ana.buyer@example.com" in one.text) is (role == "admin")
    assert ("[masked]" in one.text) is (role == "read_only")


def test_stateful_sequences_pass_every_check(api_schema):
    """Sequences of calls linked by what earlier answers returned. The database outlives
    each sequence (as a real hub's does), so a sequence hypothesis draws again may meet a
    changed world (a location created by an earlier one now answers 409) and draw
    differently: hypothesis calls that flaky and stops the run. Like schemathesis's own
    runner, such a run counts as inconclusive and another seed runs; a failed check is
    a failure whenever it comes."""
    machine = api_schema.as_state_machine()
    completed = 0
    for attempt in range(6):
        workflow = type(f"ApiWorkflow{attempt}", (machine,), {})  # derandomized: the seed follows the name
        try:
            run_state_machine_as_test(workflow, settings=settings(FUZZ, max_examples=max(10, EXAMPLES),
                                                                  stateful_step_count=6, phases=[Phase.generate]))
        except Flaky:
            continue
        completed += 1
        if completed == 2:
            break
    assert completed, "every stateful run was inconclusive (flaky replays)"
