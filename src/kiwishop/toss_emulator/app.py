"""toss-emulator (8090): stands in for the Toss Payments API and its payment window; its state is in memory,
or in the state file ``KIWI_TOSS_EMULATOR_DATA_PATH`` (opened here, closed when the app stops). With a
``KIWI_TOSS_EMULATOR_WEBHOOK_URL``, the webhook sender runs from start to stop. Its controls (``admin.locked``)
ask for the admin token."""

from __future__ import annotations

from fastapi import FastAPI

from kiwishop.platform.runtime import Runtime
from kiwishop.platform.service import ServiceDefinition
from kiwishop.toss_emulator import admin, api, window
from kiwishop.toss_emulator.emulator import Emulator
from kiwishop.toss_emulator.sender import WebhookSender
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from kiwishop.toss_emulator.store import Clock


def create_app(settings: TossEmulatorSettings, *, clock: Clock | None = None) -> FastAPI:
    """The emulator app; ``clock`` (aware UTC datetimes) lets tests move time without sleeping."""
    runtime = Runtime("toss-emulator", settings)
    app = runtime.build_app(
        title="kiwi-shop Toss Payments emulator",
        routers=[api.router, window.router, admin.router, admin.locked],
    )
    emulator = Emulator(settings, clock)
    if settings.webhook_url:
        runtime.worker(WebhookSender(emulator, settings.webhook_url, settings.webhook_timeout_s))

    async def close_state() -> None:
        emulator.close()

    runtime.on_shutdown(close_state)
    app.state.settings = settings
    app.state.emulator = emulator
    return app


SERVICE = ServiceDefinition(
    name="toss-emulator",
    settings_class=TossEmulatorSettings,
    create_app=create_app,  # type: ignore[arg-type]
)
