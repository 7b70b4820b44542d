"""Schemathesis over the whole API, on the backend under test: every operation of the
OpenAPI document, with every check schemathesis has (no server error, status codes,
content types, response schemas and headers as documented, schema-invalid data refused,
schema-valid data accepted, Allow on 405, ...), then its stateful run, which chains calls
through the links it infers (a created order's id into its operations).

Bounded: OMNIHUB_FUZZ_EXAMPLES examples per operation (default 25), a few dozen stateful
scenarios, so each backend's run stays well under two minutes. A failure prints the case
and a curl line to replay it.

One allowance, on purpose: schema-valid data may be answered 422 when it names what the
hub does not know or refuses by its rules (an unknown SKU, a time zone that does not
exist, a GTIN with a wrong check digit, too little stock): the schema cannot say which
SKUs exist. Such answers are still problem+json with the field at fault.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.config import SchemathesisConfig

from omnihub.entrypoints.api.app import create_app
from tests.conftest import add_location, add_skus, issue_token

EXAMPLES = int(os.environ.get("OMNIHUB_FUZZ_EXAMPLES", "25"))
CONFIG = {
    "generation": {"max-examples": EXAMPLES},
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2XX", "401", "403", "404", "409", "422"]}},
}
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                database=None)


@pytest.fixture
def api_schema(hub):
    """A small estate (what the generated calls can find), the app on it, and its schema."""
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"], lat=40.73, lng=-74.17)
    add_location(hub, "ST", kind="store", lat=40.72, lng=-74.0)
    add_skus(hub, "A", "B", "0")
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True)
    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    hub.inventory.receive("A", "WH", 50)
    hub.inventory.receive("0", "ST", 50)
    authenticated = {**CONFIG, "headers": {"Authorization": f"Bearer {issue_token(hub, 'admin')}"}}  # as an admin
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(hub=hub),
                                          config=SchemathesisConfig.from_dict(authenticated))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@FUZZ
def test_every_operation_passes_every_check(case):
    case.call_and_validate()


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
