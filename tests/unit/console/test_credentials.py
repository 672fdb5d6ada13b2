"""The collection loop's ops token: a fixed one, or an ops account's login renewed before its token expires."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiwishop.console.credentials import ServiceCredential
from kiwishop.platform.httpclient import HttpClient
from kiwishop.platform.page_login import IdentityLogin, LoginUnavailable, Session


@dataclass
class FakeLogin(IdentityLogin):
    answers: list[Session | LoginUnavailable | None] = field(default_factory=list)
    asked: int = 0

    def __post_init__(self) -> None:
        super().__init__(HttpClient("http://127.0.0.1:9"))

    async def log_in(self, login_id: str, password: str) -> Session | None:
        self.asked += 1
        answer = self.answers.pop(0)
        if isinstance(answer, LoginUnavailable):
            raise answer
        return answer


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_fixed_token_is_used_as_it_is() -> None:
    assert await ServiceCredential(token="fixed").token() == "fixed"


async def test_no_credential_is_no_token() -> None:
    assert await ServiceCredential().token() is None
    assert await ServiceCredential(login=FakeLogin(), login_id="ops").token() is None  # no password


async def test_the_login_is_kept_until_most_of_its_life_is_over_then_renewed() -> None:
    login, clock = FakeLogin(answers=[Session("first", 100), Session("second", 100)]), Clock()
    credential = ServiceCredential(login=login, login_id="ops", password="pw", clock=clock)
    assert await credential.token() == "first"
    clock.now = 79
    assert await credential.token() == "first"
    clock.now = 81
    assert await credential.token() == "second"
    assert login.asked == 2


async def test_identity_down_keeps_the_token_while_it_lives_and_a_refused_login_is_none() -> None:
    login, clock = FakeLogin(answers=[Session("first", 100), LoginUnavailable("down"), None]), Clock()
    credential = ServiceCredential(login=login, login_id="ops", password="pw", clock=clock)
    assert await credential.token() == "first"
    clock.now = 90
    assert await credential.token() == "first"  # identity down: the old one still lives
    assert await credential.token() is None  # refused
