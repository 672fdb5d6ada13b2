"""What the console's routes and pages reach (``app.state.console``), built once by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from kiwishop.console.handlers import Actions
from kiwishop.console.ports import Audit, Broker, Reconciles
from kiwishop.console.queries import OverviewSources
from kiwishop.console.settings import ConsoleSettings
from kiwishop.platform.deps import app_state


@dataclass(frozen=True)
class Console:
    settings: ConsoleSettings
    sources: OverviewSources
    actions: Actions

    @property
    def broker(self) -> Broker:
        return self.actions.broker

    @property
    def audit(self) -> Audit:
        return self.actions.audit

    @property
    def reconciles(self) -> Reconciles:
        return self.actions.reconciles


ConsoleDep = Annotated[Console, Depends(app_state("console", Console))]
