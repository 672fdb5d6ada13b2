"""MySQL over TLS: the engines of the services and of the migrations hand asyncmy a verifying SSL context when
the settings ask for TLS, and nothing when they do not (the local stack). What asyncmy receives is caught at
``asyncmy.connect`` through SQLAlchemy's real connect path; no server is needed."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import asyncmy
import pytest

from kiwishop.platform import migrations
from kiwishop.platform.db import connect_args, create_engine, ssl_context
from kiwishop.platform.settings import InfraSettings
from tests.unit.platform.tls_support import CA_NAME, trusted_names, write_ca

UTC_SESSION = {"init_command": "SET time_zone = '+00:00'"}


class Refused(Exception):
    """Raised by the stand-in for asyncmy.connect once it has recorded its arguments."""


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    async def connect(**kwargs: Any) -> None:
        seen.append(kwargs)
        raise Refused

    monkeypatch.setattr(asyncmy, "connect", connect)
    for var in ("KIWI_DB_SSL_REQUIRED", "KIWI_DB_SSL_CA", "KIWI_DB_SSL_VERIFY_IDENTITY"):
        monkeypatch.delenv(var, raising=False)
    return seen


def test_local_defaults_connect_without_tls(connects: list[dict[str, Any]]) -> None:
    infra = InfraSettings()

    assert (infra.db_ssl_required, infra.db_ssl_ca, infra.db_ssl_verify_identity) == (False, "", True)
    assert ssl_context(infra) is None
    assert connect_args(infra) == UTC_SESSION


def test_a_ca_turns_tls_on_and_verifies_the_server_and_its_name(tmp_path: Path) -> None:
    context = connect_args(InfraSettings(db_ssl_ca=str(write_ca(tmp_path))))["ssl"]

    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert CA_NAME in trusted_names(context)
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_verify_ca_only_still_verifies_the_chain(tmp_path: Path) -> None:
    context = ssl_context(InfraSettings(db_ssl_ca=str(write_ca(tmp_path)), db_ssl_verify_identity=False))

    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert not context.check_hostname


def test_required_without_a_ca_trusts_the_system_cas() -> None:
    context = ssl_context(InfraSettings(db_ssl_required=True))

    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert CA_NAME not in trusted_names(context)


def test_a_missing_ca_file_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ssl_context(InfraSettings(db_ssl_ca=str(tmp_path / "absent.pem")))


def test_settings_come_from_the_environment(
    connects: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIWI_DB_SSL_CA", str(write_ca(tmp_path)))
    monkeypatch.setenv("KIWI_DB_SSL_VERIFY_IDENTITY", "false")

    context = ssl_context(InfraSettings())

    assert context is not None
    assert not context.check_hostname


async def connect_once(infra: InfraSettings) -> None:
    """The service's engine connects once through SQLAlchemy's real path (the fake driver refuses it)."""
    engine = create_engine(infra, "payment_msa_v2_order", pool_size=1, max_overflow=0)
    try:
        with pytest.raises(Refused):
            await engine.connect()
    finally:
        await engine.dispose()


async def test_the_service_engine_hands_asyncmy_the_context(connects: list[dict[str, Any]], tmp_path: Path) -> None:
    await connect_once(InfraSettings(db_host="mysql", db_ssl_ca=str(write_ca(tmp_path))))

    (kwargs,) = connects
    assert kwargs["host"] == "mysql"
    assert kwargs["init_command"] == UTC_SESSION["init_command"]
    assert isinstance(kwargs["ssl"], ssl.SSLContext)
    assert CA_NAME in trusted_names(kwargs["ssl"])


async def test_the_migrations_connect_with_tls_too(connects: list[dict[str, Any]], tmp_path: Path) -> None:
    """The migrate job logs in as kiwi_migrate, whom the deployment's MySQL lets in over TLS only."""
    with pytest.raises(Refused):
        await migrations.migrate(InfraSettings(db_ssl_required=True), "payment_msa_v2_order", [])

    assert isinstance(connects[0]["ssl"], ssl.SSLContext)


async def test_the_local_engine_hands_asyncmy_no_ssl(connects: list[dict[str, Any]]) -> None:
    await connect_once(InfraSettings())

    (kwargs,) = connects
    assert "ssl" not in kwargs
