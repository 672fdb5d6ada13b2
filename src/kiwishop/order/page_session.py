"""Who is looking at the shop's pages, and whether a form post may act: the platform's login session and CSRF
guard (``platform.page_session``, which the console's pages share), with the shop's own cookie setting
(``settings.cookie_secure``) — ``PageVisitDep`` is every page's visit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kiwishop.order.services import OrderServicesDep
from kiwishop.platform.page_session import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    PageCaller,
    PageRefusal,
    PageVisit,
    drop_session_cookie,
    field,
    form_is_ours,
    local_path,
    login_url,
    new_csrf,
    read_form,
    set_csrf_cookie,
    set_session_cookie,
    visit_of,
)

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "PageCaller",
    "PageRefusal",
    "PageVisit",
    "PageVisitDep",
    "drop_session_cookie",
    "field",
    "form_is_ours",
    "local_path",
    "login_url",
    "new_csrf",
    "page_visit",
    "read_form",
    "set_csrf_cookie",
    "set_session_cookie",
]


async def page_visit(request: Request, s: OrderServicesDep) -> PageVisit:
    return await visit_of(request, secure=s.settings.cookie_secure)


PageVisitDep = Annotated[PageVisit, Depends(page_visit)]
