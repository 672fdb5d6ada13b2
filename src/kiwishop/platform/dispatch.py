"""Which handler a consumer runs for a record, by the record's event type and version.

A service passes in (``Runtime.consume``) what the contracts say about the topics it reads: the types it
handles, each with the payload versions it accepts, and the other types of those topics. The platform
knows no contract itself.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Generic, Protocol, TypeVar

H = TypeVar("H")
FIRST_VERSIONS = frozenset({1})  # what a handled type accepts when nothing else is said: every type starts at 1


class EventKind(Protocol):
    """What a consumer knows of an event type (a contract's ``EventType`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def versions(self) -> Collection[int]: ...


class Unroutable(Exception):
    """No handler may take the record, and none ever will: a type no contract names, or a version of a handled
    type that its handler does not accept."""


class Dispatch(Generic[H]):
    def __init__(
        self,
        handlers: Mapping[str, H],
        versions: Mapping[str, Collection[int]] | None = None,
        other_types: Collection[str] = (),
    ) -> None:
        self._handlers = dict(handlers)
        self._versions = {name: frozenset((versions or {}).get(name, FIRST_VERSIONS)) for name in self._handlers}
        self._others = frozenset(other_types) - self._handlers.keys()

    def handler(self, event_type: str, version: int) -> H | None:
        """The handler of ``event_type`` at ``version``; None for another consumer's type (skip the record).
        Raises ``Unroutable`` for a type nobody named and for a version the handler does not accept."""
        handler = self._handlers.get(event_type)
        if handler is None:
            if event_type in self._others:
                return None
            raise Unroutable(f"unknown event type {event_type!r}")
        if version not in self._versions[event_type]:
            accepted = sorted(self._versions[event_type])
            raise Unroutable(f"{event_type} version {version} is not accepted here (accepted: {accepted})")
        return handler
