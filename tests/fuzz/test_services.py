"""schemathesis over every operation of every service's OpenAPI schema: no input may produce a server error.

Each operation is a test of its own with ``KIWI_FUZZ_EXAMPLES`` generated cases (25 by default; ``make fuzz``
asks for more), valid and invalid alike, plus schemathesis' explicit and boundary cases. The checks: not a
server error; every status the fuzzer sees is documented for its operation (strict: no operation documents
``default`` or ``4XX``, tests/unit/platform/test_openapi_documents.py); a documented response matches its schema;
every error is the shop's JSON ``{code, message}``. A hostile path parameter that is empty, a dot segment or holds
a ``/`` (schemathesis never generates one) sends the request to another path: the router's 404 or 307, or another
operation. Such a request is no request to the operation, so it is held to the checks that hold for any request:
no server error, and an error is ``{code, message}``.
"""

from __future__ import annotations

import copy
import importlib
import os
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from kiwishop.toss_emulator.settings import PUBLIC_TEST_CLIENT_KEY
from tests.fuzz import nasty  # noqa: F401  (its schemathesis hooks mix hostile values into the generated cases)
from tests.fuzz.conftest import TOSS_AUTH, reset_emulator_faults
from tests.support import as_member, as_ops, as_seller, emulator_admin

# schemathesis' strategies still draw from `random`; hypothesis only warns about it (it does not change the cases).
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
EXAMPLES = int(os.environ.get("KIWI_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)


@schemathesis.check
def error_is_code_and_message(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any) -> None:
    """Every 4xx/5xx a client reads as data is ``{"code": str, "message": str, ...}`` (HTML pages excepted)."""
    if response.status_code < 400 or "text/html" in (response.headers.get("content-type") or [""])[0]:
        return
    body = response.json()
    if not (isinstance(body, dict) and isinstance(body.get("code"), str) and isinstance(body.get("message"), str)):
        raise AssertionError(f"error body is not {{code, message}}: {response.text[:200]!r}")


CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, error_is_code_and_message]
OFF_PATH_CHECKS = [not_a_server_error, error_is_code_and_message]


def checks_for(case: schemathesis.Case) -> list[Any]:
    """CHECKS, unless a path parameter (held percent-encoded) takes the request to another path."""
    values = [unquote(str(value)) for value in (case.path_parameters or {}).values()]
    leaves = any(value in ("", ".", "..") or "/" in value for value in values)
    return OFF_PATH_CHECKS if leaves else CHECKS


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**53 else None


def caller(case: schemathesis.Case) -> dict[str, str]:
    """The token a real caller of this case would hold, so that the fuzzer's requests get past the door (the door
    itself is tests/fuzz/test_access_matrix.py's): the member or seller the path or body names; else member 1
    for a write (checkout, confirm, cancel of member 1's orders) and ops for a read."""
    named = {**(case.path_parameters or {}), **(case.body if isinstance(case.body, dict) else {})}
    if member := _number(named.get("memberNo")):
        return as_member(member)
    if seller := _number(named.get("sellerNo")):
        return as_seller(seller)
    return as_ops() if case.method.upper() == "GET" else as_member(1)


def generated_openapi(module: str) -> dict[str, Any]:
    """The OpenAPI document the service's app generates (what it serves at ``/openapi.json``)."""
    service = importlib.import_module(f"kiwishop.{module}.app").SERVICE
    spec: dict[str, Any] = service.create_app(service.settings_class()).openapi()
    return copy.deepcopy(spec)


# service module → the fixture that serves it (tests/fuzz/conftest.py)
SERVED = {
    "catalog": "catalog_url",
    "catalog_like": "like_url",
    "catalog_review": "review_url",
    "hot_catalog": "hot_url",
    "wallet": "wallet_url",
    "seller": "seller_url",
    "order": "order_url",
    "order_query": "order_query_url",
    "toss_emulator": "emulator_url",
    "identity": "identity_url",
    "console": "console_url",
}
# Known at collection, so that every operation is a test of its own.
SPECS = {module: generated_openapi(module) for module in SERVED}
SCHEMAS = {module: schemathesis.openapi.from_dict(copy.deepcopy(spec)) for module, spec in SPECS.items()}


@pytest.mark.parametrize("module", SERVED)
def test_the_served_schema_is_the_fuzzed_one(module: str, request: pytest.FixtureRequest) -> None:
    served = httpx.get(f"{request.getfixturevalue(SERVED[module])}/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json() == SPECS[module]


@SCHEMAS["catalog"].parametrize()
@FUZZ
def test_catalog(case: schemathesis.Case, catalog_url: str) -> None:
    case.call_and_validate(base_url=catalog_url, headers=caller(case), checks=checks_for(case))


@SCHEMAS["catalog_like"].parametrize()
@FUZZ
def test_catalog_like(case: schemathesis.Case, like_url: str) -> None:
    case.call_and_validate(base_url=like_url, headers=caller(case), checks=checks_for(case))


@SCHEMAS["catalog_review"].parametrize()
@FUZZ
def test_catalog_review(case: schemathesis.Case, review_url: str) -> None:
    case.call_and_validate(base_url=review_url, headers=caller(case), checks=checks_for(case))


@SCHEMAS["hot_catalog"].parametrize()
@FUZZ
def test_hot_catalog(case: schemathesis.Case, hot_url: str) -> None:
    case.call_and_validate(base_url=hot_url, headers=caller(case), checks=checks_for(case))


@SCHEMAS["wallet"].parametrize()
@FUZZ
def test_wallet(case: schemathesis.Case, wallet_url: str) -> None:
    case.call_and_validate(base_url=wallet_url, headers=caller(case), checks=checks_for(case))


@SCHEMAS["seller"].parametrize()
@FUZZ
def test_seller(case: schemathesis.Case, seller_url: str) -> None:
    case.call_and_validate(base_url=seller_url, headers=caller(case), checks=checks_for(case))


@SCHEMAS["order"].parametrize()
@FUZZ
def test_order(case: schemathesis.Case, order_url: str) -> None:
    case.call_and_validate(base_url=order_url, headers=caller(case), checks=checks_for(case))


@SCHEMAS["order_query"].parametrize()
@FUZZ
def test_order_query(case: schemathesis.Case, order_query_url: str) -> None:
    case.call_and_validate(base_url=order_query_url, headers=caller(case), checks=checks_for(case))


@SCHEMAS["toss_emulator"].parametrize()
@FUZZ
def test_toss_emulator(case: schemathesis.Case, emulator_url: str) -> None:
    """The Toss API with the merchant's real secret key and the window with a real client key (without them every
    call stops at the key check)."""
    for values in (case.query, case.body):
        if isinstance(values, dict) and isinstance(values.get("clientKey"), str):
            values["clientKey"] = PUBLIC_TEST_CLIENT_KEY
    # the Toss API takes the merchant's secret key; the emulator's own controls take its admin token
    admin = case.operation.path.startswith("/emulator/") and case.operation.path != "/emulator/payments"
    headers = emulator_admin() if admin else {"Authorization": TOSS_AUTH}
    try:
        case.call_and_validate(base_url=emulator_url, headers=headers, checks=checks_for(case))
    finally:
        if case.operation.path == "/emulator/faults" and case.method.upper() == "PUT":
            reset_emulator_faults(emulator_url)  # injected 5xx, hangs and latency are the emulator's job


@SCHEMAS["identity"].parametrize()
@FUZZ
def test_identity(case: schemathesis.Case, identity_url: str) -> None:
    case.call_and_validate(base_url=identity_url, headers=caller(case), checks=checks_for(case))


@SCHEMAS["console"].parametrize()
@FUZZ
def test_console(case: schemathesis.Case, console_url: str) -> None:
    case.call_and_validate(base_url=console_url, headers=caller(case), checks=checks_for(case))
