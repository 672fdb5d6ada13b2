"""The collection loop's ops token (it has no user's): a fixed token (``service_token``; the local stack mints
one), or an ops account's login (``service_login_id`` / ``service_password``) — logged in with identity and
logged in again before that token expires. Neither: None, and the loop collects only what needs no token."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from kiwishop.platform.page_login import IdentityLogin, LoginUnavailable

log = logging.getLogger("kiwishop.console.credentials")
RENEW_AT = 0.8  # of a token's lifetime


class ServiceCredential:
    def __init__(
        self,
        *,
        token: str = "",
        login: IdentityLogin | None = None,
        login_id: str = "",
        password: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fixed = token or None
        self._login = login if login_id and password else None
        self._login_id, self._password = login_id, password
        self._clock = clock
        self._token: str | None = None
        self._renew_at = self._expires_at = 0.0

    async def token(self) -> str | None:
        if self._fixed is not None or self._login is None:
            return self._fixed
        if self._token is not None and self._clock() < self._renew_at:
            return self._token
        try:
            session = await self._login.log_in(self._login_id, self._password)
        except LoginUnavailable as exc:
            log.warning("console: cannot log in its service account: %s", exc)
            return self._token if self._clock() < self._expires_at else None  # the old one while it lives
        if session is None:
            log.warning("console: identity refused the service account %r", self._login_id)
            self._token = None
            return None
        now = self._clock()
        self._token = session.token
        self._renew_at, self._expires_at = now + session.expires_in * RENEW_AT, now + session.expires_in
        return self._token
