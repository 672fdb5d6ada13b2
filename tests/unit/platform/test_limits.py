"""The body cap decides before the app runs: by Content-Length, or by counting a chunked body as it streams."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic_settings import SettingsConfigDict
from starlette.types import Message, Receive, Scope, Send

from kiwishop.platform.limits import BodyLimitMiddleware
from kiwishop.platform.settings import ServiceSettings


class Echo:
    """An app that reads the whole body and answers its length."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})


def _scope(headers: dict[str, str]) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }


async def _call(app: Any, headers: dict[str, str], chunks: list[bytes]) -> tuple[int, bytes, int]:
    """(status, body, how many chunks were received)."""
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]
    received = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal received
        if not pending:
            return {"type": "http.disconnect"}
        received += 1
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await app(_scope(headers), receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]), received


async def test_a_declared_length_above_the_limit_is_refused_without_reading_or_running_the_app() -> None:
    app = Echo()
    headers = {"content-length": "101", "expect": "100-continue", "accept-language": "en"}
    status, body, received = await _call(BodyLimitMiddleware(app, 100), headers, [b"x" * 101])
    assert (status, received, app.calls) == (413, 0, 0)
    assert json.loads(body) == {
        "code": "PAYLOAD_TOO_LARGE",
        "message": "The request body is too large (at most 100 bytes).",
    }


async def test_a_chunked_body_is_cut_at_the_chunk_that_crosses_the_limit() -> None:
    app = Echo()
    chunks = [b"x" * 40] * 3 + [b"y" * 40] * 1000  # the rest is drained (thrown away), not held
    status, body, _ = await _call(BodyLimitMiddleware(app, 100), {"transfer-encoding": "chunked"}, chunks)
    assert (status, app.calls) == (413, 0)
    assert json.loads(body)["message"] == "요청 본문이 너무 큽니다 (최대 100바이트)."


@pytest.mark.parametrize("size", [0, 1, 99, 100])
async def test_a_body_within_the_limit_reaches_the_app_whole(size: int) -> None:
    app = Echo()
    chunks = [b"x" * (size // 2), b"x" * (size - size // 2)]
    status, body, _ = await _call(BodyLimitMiddleware(app, 100), {"transfer-encoding": "chunked"}, chunks)
    assert (status, body, app.calls) == (200, str(size).encode(), 1)
    status, body, _ = await _call(BodyLimitMiddleware(app, 100), {"content-length": str(size)}, [b"x" * size])
    assert (status, body) == (200, str(size).encode())


def test_the_limit_is_a_setting_of_every_service(monkeypatch: pytest.MonkeyPatch) -> None:
    class Some(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="KIWI_SOME_", extra="ignore")

    assert Some().max_body_bytes == 64 * 1024
    monkeypatch.setenv("KIWI_SOME_MAX_BODY_BYTES", "1000")
    assert Some().max_body_bytes == 1000
