"""Per-field validation messages follow Accept-Language: Korean by default, pydantic's English with ``en``."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, FastAPI
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from kiwishop.platform.deps import PageLimit
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.validation import GENERIC_KO, validation_message
from kiwishop.platform.web import build_app
from tests.support import running_app


def _even(value: int) -> int:
    if value % 2:
        raise PydanticCustomError(
            "even", "must be even, got {value}", {"value": value, "ko": "짝수여야 합니다: {value}"}
        )
    return value


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=3)
    qty: int = Field(ge=1)
    pair: Annotated[int, AfterValidator(_even)] = 2


router = APIRouter()


@router.post("/items")
async def create_item(item: Item) -> dict[str, str]:
    return {"name": item.name}


@router.get("/pages")
async def pages(limit: PageLimit = 20) -> dict[str, int]:
    return {"limit": limit}


def make_app() -> FastAPI:
    app = build_app(title="t", metrics=Metrics("validation_language"))
    app.include_router(router)
    return app


async def test_details_are_korean_by_default_and_english_with_accept_language_en() -> None:
    body = {"name": "toolong", "qty": 0, "pair": 3}
    async with running_app(make_app()) as client:
        korean = (await client.post("/items", json=body)).json()
        english = (await client.post("/items", json=body, headers={"Accept-Language": "en-US,en;q=0.9"})).json()
    assert korean["message"] == "요청 값이 올바르지 않습니다."
    assert {d["field"]: d["message"] for d in korean["details"]} == {
        "name": "최대 3자입니다.",
        "qty": "1 이상이어야 합니다.",
        "pair": "짝수여야 합니다: 3",
    }
    assert english["message"] == "The request is invalid."
    assert {d["field"]: d["message"] for d in english["details"]} == {
        "name": "String should have at most 3 characters",
        "qty": "Input should be greater than or equal to 1",
        "pair": "must be even, got 3",
    }


async def test_malformed_json_details_follow_the_language_too() -> None:
    raw = b'{"name": '
    headers = {"Content-Type": "application/json"}
    async with running_app(make_app()) as client:
        korean = (await client.post("/items", content=raw, headers=headers)).json()
        english = (await client.post("/items", content=raw, headers={**headers, "Accept-Language": "en"})).json()
    assert korean["code"] == english["code"] == "MALFORMED_JSON"
    assert korean["details"][0]["message"] == "JSON 형식이 올바르지 않습니다."
    assert english["details"][0]["message"].startswith("JSON")


def test_an_error_type_without_a_korean_text_gets_a_generic_korean_message_not_english() -> None:
    error = {"type": "some_new_pydantic_type", "msg": "Something new went wrong", "ctx": {}}
    assert validation_message(error, "ko") == GENERIC_KO
    assert validation_message(error, "en") == "Something new went wrong"


def test_a_template_whose_context_is_missing_is_shown_unfilled_rather_than_failing() -> None:
    assert validation_message({"type": "greater_than", "msg": "x"}, "ko") == "{gt}보다 커야 합니다."


@pytest.mark.parametrize(("query", "status"), [("", 200), ("?limit=1", 200), ("?limit=100", 200)])
async def test_the_page_limit_takes_1_to_100(query: str, status: int) -> None:
    async with running_app(make_app()) as client:
        response = await client.get(f"/pages{query}")
    assert response.status_code == status
    assert response.json()["limit"] == int(query.partition("=")[2] or 20)


@pytest.mark.parametrize("bad", ["101", "0", "-1", "abc", "1.5"])
async def test_any_other_page_limit_is_a_400_never_clamped(bad: str) -> None:
    async with running_app(make_app()) as client:
        response = await client.get(f"/pages?limit={bad}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_REQUEST"
    assert body["details"][0]["field"] == "query.limit"
