"""The test runner starts its own MariaDB, Redis and Tansu broker on free ports with throw-away data
(never the `make run` stack), once per session, only when a test asks for them."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiwishop.identity.keys import generate_private_pem, signing_keys
from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.devstack.scratch import ScratchServers

# An emulator a test builds sends no webhooks unless the test gives it a receiver (its default is the local
# stack's order on :8080, which a test must never reach); a fleet of processes points them at its own order.
os.environ.setdefault("KIWI_TOSS_EMULATOR_WEBHOOK_URL", "")
# Per-member rate limits count in the session's one Redis across every test (member 1 checks out hundreds of
# times a run): off, except where a test sets them (tests/integration/order/test_rate_limits.py).
for _action in ("CHECKOUTS", "CONFIRMS", "CANCELS"):
    os.environ.setdefault(f"KIWI_ORDER_RATE_LIMIT_{_action}", "0")
os.environ.setdefault("KIWI_SELLER_RATE_LIMIT_REGISTRATIONS", "0")  # all from 127.0.0.1
os.environ.setdefault("KIWI_TOSS_EMULATOR_ALLOWED_REDIRECT_ORIGINS", "http://127.0.0.1:*,http://localhost:*")


def _test_identity() -> None:
    """One signing key for the whole run: every service a test builds (or a fleet starts) verifies tokens
    against its JWKS, read from a file; an identity service a fleet starts signs with it; tests mint tokens
    with it (``tests.support.tokens``). Set before any settings are built."""
    pem = generate_private_pem()
    jwks = Path(tempfile.mkdtemp(prefix="kiwi-test-identity-")) / "jwks.json"
    jwks.write_text(json.dumps(signing_keys(pem).jwks()))
    os.environ["KIWI_IDENTITY_SIGNING_KEY"] = pem
    os.environ["KIWI_IDENTITY_JWKS_URL"] = jwks.as_uri()


_test_identity()


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchServers]:
    with ScratchServers(tmp_path_factory.mktemp("servers")) as started:
        yield started


@pytest.fixture(scope="session")
def infra(servers: ScratchServers) -> InfraSettings:
    return servers.infra
