"""Hostile values mixed into schemathesis' generated cases (schemathesis hooks, registered on import).

schemathesis generates what a schema allows (and, in negative mode, what it forbids), but its text is valid
UTF-8 and seldom the values that break parsers, drivers and URL handling. Half of the generated cases get one
leaf of their body, query or path parameters replaced with one of these: lone surrogates (JSON bodies only:
a URL or a form cannot carry them), NUL, direction overrides, 4-byte characters, long text, numbers past
64 bits, numbers as words, unusual digits, broken URLs and path tricks.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import schemathesis
from hypothesis import strategies as st

Path = tuple[str | int, ...]

ANYWHERE: list[object] = [
    "",
    " ",
    "\t\r\n",
    "a\x00b",
    "\u202eevil\u0301",
    "\U0001f600" * 20,
    "가" * 2_000,
    "http://[::1",
    "http://[::1]:99999/x",
    "../../etc/passwd",
    "%00%ff",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "1e999999",
    "-0",
    "NaN",
    "Infinity",
    "9223372036854775808",
    "١٢٣",  # Arabic-Indic digits: str.isdigit() says yes, int() would take them
    "１２",  # fullwidth digits
    "²",  # a superscript: isdigit() yes, int() no
    2**63,
    2**64 + 1,
    -(2**63) - 1,
    10**30,
    1e308,
    0.5,
    -1,
    0,
    True,
    None,
]
JSON_ONLY: list[object] = ["\ud800", "x\udfffy", "가" * 100_000]


def _leaves(value: Any, path: Path = ()) -> Iterator[Path]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    elif path:
        yield path


def _replaced(value: Any, path: Path, new: object) -> Any:
    changed = copy.deepcopy(value)
    target = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return changed


def _one_leaf_hostile(value: Any, pool: list[object]) -> st.SearchStrategy[Any]:
    paths = list(_leaves(value))
    if not paths:
        return st.just(value)
    hostile = st.builds(lambda path, new: _replaced(value, path, new), st.sampled_from(paths), st.sampled_from(pool))
    return st.one_of(st.just(value), hostile)


def _takes_json(context: schemathesis.HookContext) -> bool:
    operation = context.operation
    return operation is not None and all("json" in body.media_type for body in operation.body)


@schemathesis.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    return _one_leaf_hostile(body, ANYWHERE + JSON_ONLY if _takes_json(context) else ANYWHERE)


@schemathesis.hook
def flatmap_query(context: schemathesis.HookContext, query: dict[str, Any]) -> st.SearchStrategy[Any]:
    return _one_leaf_hostile(query, ANYWHERE)


@schemathesis.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any]
) -> st.SearchStrategy[Any]:
    return _one_leaf_hostile(path_parameters, ANYWHERE)
