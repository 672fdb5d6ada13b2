"""toss-emulator (8090): stands in for the Toss Payments API and its payment window, state in memory."""

from __future__ import annotations

from fastapi import FastAPI

from kiwishop.platform.runtime import Runtime
from kiwishop.platform.service import ServiceDefinition
from kiwishop.toss_emulator import admin, api, window
from kiwishop.toss_emulator.emulator import Emulator
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from kiwishop.toss_emulator.store import Clock


def create_app(settings: TossEmulatorSettings, *, clock: Clock | None = None) -> FastAPI:
    """The emulator app; ``clock`` (aware UTC datetimes) lets tests move time without sleeping."""
    runtime = Runtime("toss-emulator", settings)
    app = runtime.build_app(
        title="kiwi-shop Toss Payments emulator",
        routers=[api.router, window.router, admin.router],
    )
    app.state.settings = settings
    app.state.emulator = Emulator(settings, clock)
    return app


SERVICE = ServiceDefinition(
    name="toss-emulator",
    settings_class=TossEmulatorSettings,
    create_app=create_app,  # type: ignore[arg-type]
)
