"""Settings of the local stack itself (`make run`), never read by a service.

``KIWI_LOCAL_BROKER_STORAGE``: ``s3`` (default) keeps the local broker's topics, records and committed offsets
in SeaweedFS under ``.data/seaweedfs``, so they survive `make stop` / `make run`; ``memory`` keeps them in the
broker's memory only (faster, forgotten on every stop).
``KIWI_LOCAL_SEAWEEDFS_PORT``: SeaweedFS's S3 port (default 8333); its four other HTTP ports follow it
(8334–8337: master, volume server, filer, admin) and each one's gRPC port is 10,000 above (18333–18337).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LocalStackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KIWI_LOCAL_", extra="ignore")

    broker_storage: Literal["s3", "memory"] = "s3"
    seaweedfs_port: int = Field(default=8333, ge=1024, le=55530)
    # each service drains its outbox on SIGTERM; they stop together, within this
    services_stop_timeout_s: float = 45.0
