"""The console's request bodies (its answers pass the services' own shapes on, so they are plain JSON)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_PARTITION = 2**31 - 1
MAX_OFFSET = 2**63 - 1


class RedriveIn(BaseModel):
    """One record to redrive; no body at all redrives every record not yet redriven."""

    model_config = ConfigDict(extra="forbid")

    partition: int = Field(ge=0, le=MAX_PARTITION)
    offset: int = Field(ge=0, le=MAX_OFFSET)


class CancelAtPspIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
