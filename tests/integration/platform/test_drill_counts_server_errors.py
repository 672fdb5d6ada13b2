"""The fault drill's load counts every answer 500 it sees, and every 503 without ``Retry-After``; the drill fails on
any and prints the counts (the drill itself runs in tests/e2e)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from kiwishop.ops.reconcile import Findings
from kiwishop_dev.bench.drill_report import DrillResult, render_result
from kiwishop_dev.bench.load import Load, Targets
from tests.support import served_app


def peer() -> FastAPI:
    """Answers ``/<status>`` with that status; ``/503-honest`` is a 503 with Retry-After."""
    app = FastAPI()

    @app.get("/{status}")
    async def answer(status: str) -> JSONResponse:
        code, _, honest = status.partition("-")
        headers = {"Retry-After": "2"} if honest else None
        return JSONResponse({"code": "X", "message": "x"}, status_code=int(code), headers=headers)

    return app


async def test_the_load_counts_500s_and_503s_without_retry_after() -> None:
    async with served_app(peer()) as url:
        load = Load(Targets(url, url, url, url, url, url), [], concurrency=1)
        try:
            for path in ("/200", "/500", "/500", "/502", "/503", "/503-honest", "/503-honest"):
                await load._call("history", "history", "GET", path)
            await load._call("hot", "hot", "GET", "/500")
        finally:
            await load.aclose()
    assert load.recorder.server_errors() == {"history": 3, "hot": 1}
    assert load.recorder.no_retry_after == {"history": 1}


def test_a_drill_that_saw_a_500_fails_and_says_how_many() -> None:
    result = DrillResult(findings=Findings(), settled_after_psp_back_s=1.0)
    assert result.clean
    result.server_errors = {"checkout": 2, "confirm": 2}
    assert not result.clean
    report = render_result(result)
    assert "answers 500 (an outage must answer 503): 4 {'checkout': 2, 'confirm': 2}" in report
    assert report.endswith("drills: FAILED")
    result.server_errors, result.no_retry_after = {}, {"hot": 1}
    assert not result.clean
    assert "503 answers without Retry-After: 1 {'hot': 1}" in render_result(result)
