"""The served SDK script run in Node with a stub browser: validation rejects the Promise with {code, message}
like the real SDK; valid calls navigate to the emulator's own window page, which then renders."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.integration.toss_emulator.conftest import CLIENT_KEY, SECRET, Toss

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the SDK script")

HARNESS = r"""
const fs = require("fs");
const source = fs.readFileSync(process.argv[2], "utf8");
const calls = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
global.window = { location: { href: "http://shop.test/checkout", origin: "http://shop.test" } };
global.document = { currentScript: { src: "http://127.0.0.1:8090/v1/payment" }, getElementsByTagName: () => [] };
new Function(source)();
(async () => {
  const results = [];
  for (const [clientKey, method, params, withNew] of calls) {
    window.location.href = "unchanged";
    const toss = withNew ? new window.TossPayments(clientKey) : window.TossPayments(clientKey);
    const outcome = await Promise.race([
      toss.requestPayment(method, params).then(
        () => ({ resolved: true }),
        (e) => ({ code: e.code, message: e.message }),
      ),
      new Promise((resolve) => setTimeout(() => resolve({ pending: true }), 20)),
    ]);
    results.push({ outcome, href: window.location.href });
  }
  console.log(JSON.stringify(results));
})();
"""

PARAMS = {
    "amount": 6000,
    "orderId": "order-sdk-0001",
    "orderName": "상품A 외 2건",
    "successUrl": "http://localhost:8080/success",
    "failUrl": "http://localhost:8080/fail",
    "customerName": "김토스",
    "customerEmail": "buyer@example.com",
}


async def run_sdk(toss: Toss, tmp_path: Path, calls: list[list[Any]]) -> list[dict[str, Any]]:
    script = tmp_path / "payment.js"
    script.write_text((await toss.http.get("/v1/payment")).text, encoding="utf-8")
    (tmp_path / "harness.js").write_text(HARNESS, encoding="utf-8")
    (tmp_path / "calls.json").write_text(json.dumps(calls), encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        "node", str(tmp_path / "harness.js"), str(script), str(tmp_path / "calls.json"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()
    results: list[dict[str, Any]] = json.loads(out)
    return results


async def test_request_payment_navigates_to_the_window_on_the_scripts_origin(toss: Toss, tmp_path: Path) -> None:
    [card, card_en, with_new] = await run_sdk(
        toss,
        tmp_path,
        [[CLIENT_KEY, "카드", PARAMS, False], [CLIENT_KEY, "CARD", {**PARAMS, "amount": "6000"}, False],
         [CLIENT_KEY, "카드", PARAMS, True]],
    )  # fmt: skip
    assert card["outcome"] == card_en["outcome"] == with_new["outcome"] == {"pending": True}
    url = urlsplit(card["href"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "http://127.0.0.1:8090/emulator/window"
    query = dict(parse_qsl(url.query))
    assert query["clientKey"] == CLIENT_KEY
    assert query["method"] == "카드"
    assert query["amount"] == "6000"
    assert query["orderId"] == PARAMS["orderId"]
    assert query["successUrl"] == PARAMS["successUrl"]
    assert query["customerName"] == "김토스"
    page = await toss.http.get(f"{url.path}?{url.query}")  # the same URL, served by the emulator
    assert page.status_code == 200
    assert "상품A 외 2건" in page.text
    assert "6,000원" in page.text


@pytest.mark.parametrize(
    ("client_key", "method", "change", "code"),
    [
        ("test_ck_unknown", "카드", {}, "UNAUTHORIZED_KEY"),
        (SECRET, "카드", {}, "INSECURE_KEY_USAGE"),
        ("test_gck_docs_Ovk5rk1EwkEbP0W43n07xlzm", "카드", {}, "NOT_SUPPORTED_WIDGET_KEY"),
        (CLIENT_KEY, "가상계좌", {}, "NOT_SUPPORTED_METHOD"),
        (CLIENT_KEY, "카드", {"amount": 0}, "INVALID_AMOUNT_VALUE"),
        (CLIENT_KEY, "카드", {"amount": 10.5}, "INVALID_AMOUNT_VALUE"),
        (CLIENT_KEY, "카드", {"orderId": "abc"}, "INVALID_ORDER_ID"),
        (CLIENT_KEY, "카드", {"orderName": ""}, "INVALID_ORDER_NAME"),
        (CLIENT_KEY, "카드", {"successUrl": None}, "INCORRECT_SUCCESS_URL_FORMAT"),
        (CLIENT_KEY, "카드", {"failUrl": "/fail"}, "INCORRECT_FAIL_URL_FORMAT"),
    ],
)
async def test_bad_arguments_reject_the_promise_with_a_code_and_stay_on_the_page(
    toss: Toss, tmp_path: Path, client_key: str, method: str, change: dict[str, Any], code: str
) -> None:
    [result] = await run_sdk(toss, tmp_path, [[client_key, method, {**PARAMS, **change}, False]])
    assert result["outcome"]["code"] == code
    assert result["outcome"]["message"]
    assert result["href"] == "unchanged"
