"""No module over 300 lines: every Python file of the product, the tools and the tests that git tracks (or that is
new and not ignored) stays within the limit; a longer one is split into cohesive modules."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHECKED = ("src", "tools", "tests")
MAX_LINES = 300


def python_files() -> list[Path]:
    """Every .py file under CHECKED that git tracks, plus new files not ignored yet (checked before their commit)."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", *CHECKED],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    names = {name for name in listed.split("\0") if name.endswith(".py")}
    return sorted(ROOT / name for name in names if (ROOT / name).is_file())


def test_the_checked_folders_hold_python_files() -> None:
    assert len(python_files()) > 100  # the listing works (an empty one would pass the test below vacuously)


def test_no_module_is_longer_than_300_lines() -> None:
    too_long = []
    for path in python_files():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            too_long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert too_long == [], f"modules over {MAX_LINES} lines (split them): " + "; ".join(too_long)
