"""The shop's login: ``GET /login``, ``POST /login`` and ``POST /logout`` — the platform's login pages
(``platform.page_login``: identity's token in the session cookie, ``next`` kept to this site) rendered with the
shop's templates."""

from __future__ import annotations

from kiwishop.contracts.identity import LOGIN_ID_MAX_LENGTH, PASSWORD_MAX_LENGTH
from kiwishop.order.page_session import page_visit
from kiwishop.order.pages import not_from_here, render
from kiwishop.platform.page_login import IdentityLogin, LoginPages, login_router

__all__ = ["IdentityLogin", "router"]

router = login_router(
    LoginPages(
        visit=page_visit,
        render=render,
        not_from_here=not_from_here,
        login_id_max=LOGIN_ID_MAX_LENGTH,
        password_max=PASSWORD_MAX_LENGTH,
    )
)
