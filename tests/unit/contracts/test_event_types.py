"""The event contracts: stdlib only (domain modules import them), and the same list as docs/events.md."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from kiwishop.contracts import events, topics

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("module", [events, topics])
def test_the_contracts_import_the_standard_library_only(module: object) -> None:
    tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    foreign = {m for m in imported if m.split(".")[0] not in sys.stdlib_module_names and m != "__future__"}
    assert foreign <= {"kiwishop.contracts"}


def test_docs_describe_every_event_type_on_its_topic() -> None:
    text = (ROOT / "docs" / "events.md").read_text()
    for event_type in events.EVENT_TYPES:
        assert f"`{event_type.name}`" in text
        assert f"`{event_type.topic}`" in text


def test_on_topics_lists_the_types_of_those_topics_only() -> None:
    assert {t.name for t in events.on_topics(topics.WALLET)} == {
        "WALLET_SETTLED",
        "WALLET_CREATED",
        "WALLET_CREATION_FAILED",
    }
    assert {t.name for t in events.on_topics(topics.SELLER, topics.PAYMENT)} == {
        "WALLET_CREATE_REQUESTED",
        "SELLER_REGISTERED",
        "SELLER_DEREGISTERED",
        "PAYMENT_CONFIRM",
        "PAYMENT_CANCELED",
    }
