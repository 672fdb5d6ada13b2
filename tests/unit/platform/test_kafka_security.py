"""Every Kafka client the product makes gets its SASL user and TLS from one helper, ``kafka_security_kwargs``:
nothing at all for the local stack's PLAINTEXT broker, a SCRAM user for production's SASL listener, a verifying
TLS context for SASL_SSL/SSL. The clients are built for real (aiokafka checks its arguments), not started."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr, ValidationError

from kiwishop.platform import kafka
from kiwishop.platform.kafka import KafkaPublisher, create_consumer, kafka_security_kwargs
from kiwishop.platform.settings import InfraSettings
from tests.unit.platform.tls_support import CA_NAME, trusted_names, write_ca

SECURITY_VARS = (
    "KIWI_KAFKA_SECURITY_PROTOCOL",
    "KIWI_KAFKA_SASL_MECHANISM",
    "KIWI_KAFKA_SASL_USERNAME",
    "KIWI_KAFKA_SASL_PASSWORD",
    "KIWI_KAFKA_SSL_CAFILE",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in SECURITY_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def sasl(protocol: str = "SASL_PLAINTEXT", **extra: Any) -> InfraSettings:
    return InfraSettings(
        kafka_security_protocol=protocol,
        kafka_sasl_username="kiwi-order",
        kafka_sasl_password=SecretStr("s3cret"),
        **extra,
    )


def test_plaintext_default_adds_nothing(clean_env: pytest.MonkeyPatch) -> None:
    infra = InfraSettings()

    assert infra.kafka_security_protocol == "PLAINTEXT"
    assert kafka_security_kwargs(infra) == {}


def test_sasl_plaintext_is_a_scram_user_without_tls() -> None:
    kwargs = kafka_security_kwargs(sasl())

    assert kwargs == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "kiwi-order",
        "sasl_plain_password": "s3cret",
    }


def test_sasl_ssl_verifies_the_broker_against_the_given_ca(tmp_path: Path) -> None:
    kwargs = kafka_security_kwargs(sasl("SASL_SSL", kafka_ssl_cafile=str(write_ca(tmp_path))))

    assert kwargs["security_protocol"] == "SASL_SSL"
    assert (kwargs["sasl_mechanism"], kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == (
        "SCRAM-SHA-512",
        "kiwi-order",
        "s3cret",
    )
    context = kwargs["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert CA_NAME in trusted_names(context)


def test_sasl_ssl_without_a_ca_file_trusts_the_system_cas() -> None:
    context = kafka_security_kwargs(sasl("SASL_SSL"))["ssl_context"]

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert CA_NAME not in trusted_names(context)


def test_ssl_alone_has_no_sasl_user(tmp_path: Path) -> None:
    kwargs = kafka_security_kwargs(
        InfraSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(write_ca(tmp_path)))
    )

    assert set(kwargs) == {"security_protocol", "ssl_context"}
    assert kwargs["security_protocol"] == "SSL"


@pytest.mark.parametrize(("user", "password"), [("", "s3cret"), ("kiwi-order", "")])
def test_sasl_without_its_user_fails_before_any_connection(user: str, password: str) -> None:
    infra = InfraSettings(
        kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username=user, kafka_sasl_password=SecretStr(password)
    )

    with pytest.raises(ValueError, match="KIWI_KAFKA_SASL_USERNAME"):
        kafka_security_kwargs(infra)


def test_settings_come_from_the_environment_and_the_password_stays_secret(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("KIWI_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    clean_env.setenv("KIWI_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    clean_env.setenv("KIWI_KAFKA_SASL_USERNAME", "kiwi-wallet")
    clean_env.setenv("KIWI_KAFKA_SASL_PASSWORD", "p4ss")

    infra = InfraSettings()

    assert "p4ss" not in repr(infra)
    assert kafka_security_kwargs(infra)["sasl_mechanism"] == "SCRAM-SHA-256"
    assert kafka_security_kwargs(infra)["sasl_plain_username"] == "kiwi-wallet"


def test_an_unknown_protocol_or_mechanism_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        InfraSettings(kafka_security_protocol="SASL_TLS")
    with pytest.raises(ValidationError):
        InfraSettings(kafka_sasl_mechanism="GSSAPI")


class Recorder:
    """Stands in for an aiokafka producer or admin client class: records what the product passes it."""

    built: ClassVar[list[dict[str, object]]] = []

    def __init__(self, **kwargs: object) -> None:
        type(self).built.append(kwargs)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def list_topics(self) -> list[str]:
        return ["kiwi-shop-payment"]


def recorder() -> type[Recorder]:
    class Fresh(Recorder):
        built: ClassVar[list[dict[str, object]]] = []

    return Fresh


async def test_the_consumer_the_producer_and_the_admin_client_all_authenticate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    infra = sasl("SASL_SSL", kafka_ssl_cafile=str(write_ca(tmp_path)))
    built = recorder()
    monkeypatch.setattr(kafka, "AIOKafkaProducer", built)
    monkeypatch.setattr(kafka, "AIOKafkaAdminClient", built)

    consumer = create_consumer(infra, ["kiwi-shop-wallet"], "order-wallet-result", max_poll_records=10)
    await kafka.ensure_topics(infra, ["kiwi-shop-payment"])
    await KafkaPublisher(infra).ping()

    client = consumer._client
    assert (client._security_protocol, client._sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    assert (client._sasl_plain_username, client._sasl_plain_password) == ("kiwi-order", "s3cret")
    assert isinstance(client._ssl_context, ssl.SSLContext)
    admin_kwargs, producer_kwargs = built.built
    for kwargs in (admin_kwargs, producer_kwargs):
        assert kwargs["security_protocol"] == "SASL_SSL"
        assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == ("kiwi-order", "s3cret")
        assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
    assert producer_kwargs["acks"] == "all"


async def test_local_clients_are_built_as_before(clean_env: pytest.MonkeyPatch) -> None:
    built = recorder()
    clean_env.setattr(kafka, "AIOKafkaProducer", built)
    clean_env.setattr(kafka, "AIOKafkaAdminClient", built)

    consumer = create_consumer(InfraSettings(), ["kiwi-shop-wallet"], "g", max_poll_records=10)
    await kafka.ensure_topics(InfraSettings(), ["kiwi-shop-payment"])
    await KafkaPublisher(InfraSettings()).ping()

    assert consumer._client._security_protocol == "PLAINTEXT"
    assert consumer._client._ssl_context is None
    for kwargs in built.built:
        assert not {"security_protocol", "sasl_mechanism", "sasl_plain_username", "ssl_context"} & set(kwargs)
    assert len(built.built) == 2
