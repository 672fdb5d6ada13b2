from __future__ import annotations

import inspect

import pytest

from kiwishop.platform.relay import OutboxRelay, backoff_delay
from kiwishop.platform.settings import ServiceSettings


@pytest.mark.parametrize(
    ("attempts", "expected"), [(0, 0.5), (1, 1.0), (3, 4.0), (6, 30.0), (40, 30.0), (10_000, 30.0)]
)
def test_failed_rows_back_off_exponentially_up_to_a_cap(attempts: int, expected: float) -> None:
    assert backoff_delay(attempts, 0.5, 30.0) == expected


@pytest.mark.parametrize(
    "name", ["batch_size", "poll_interval_s", "lease_s", "backoff_base_s", "backoff_max_s", "retention_hours"]
)
def test_the_relays_defaults_are_the_service_settings_own(name: str) -> None:
    default = inspect.signature(OutboxRelay).parameters[name].default
    assert default == ServiceSettings.model_fields[f"outbox_{name}"].default


def test_a_stop_drains_as_long_as_the_settings_say_by_default() -> None:
    default = inspect.signature(OutboxRelay.stop).parameters["drain_s"].default
    assert default == ServiceSettings.model_fields["outbox_drain_on_stop_s"].default
