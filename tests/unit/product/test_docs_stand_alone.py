"""The repository explains itself: no file points readers at design notes or specs kept outside it, and every
relative link of the README and ``docs/`` leads to a file that is in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TEXT_SUFFIXES = {".md", ".py", ".toml", ".yaml", ".yml", ".cfg", ".ini", ".txt"}
TEXT_NAMES = {"Makefile"}
# Written with escapes so that this file does not match itself.
OUTSIDE_REFERENCE = re.compile(r"\.\./shared\b|\bshared/(?:spec|design)\b")
FENCED_BLOCK = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
BACKTICKED_DOCS_PATH = re.compile(r"`(docs/[^`\s]*)`")
URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def repository_files() -> list[Path]:
    """Every file git tracks, plus new files not ignored yet (a new document is checked before its commit)."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()})


def text_files() -> list[Path]:
    return [p for p in repository_files() if p.suffix in TEXT_SUFFIXES or p.name in TEXT_NAMES]


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose(path: Path) -> str:
    """The document without its fenced code blocks (commands and JSON, not links)."""
    return FENCED_BLOCK.sub("", path.read_text(encoding="utf-8"))


def relative_links(path: Path) -> list[tuple[str, Path]]:
    """(as written, resolved path) for every relative markdown link and backticked ``docs/…`` path."""
    found: list[tuple[str, Path]] = []
    text = prose(path)
    for target in MARKDOWN_LINK.findall(text):
        if URL_SCHEME.match(target) or target.startswith("#"):
            continue
        found.append((target, (path.parent / target.split("#", 1)[0]).resolve()))
    for target in BACKTICKED_DOCS_PATH.findall(text):
        found.append((target, (ROOT / target).resolve()))
    return found


def test_the_scan_sees_the_repository_documents_and_code() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in text_files()}
    assert {"README.md", "docs/design.md", "docs/original.md", "pyproject.toml", "Makefile"} <= names
    assert any(name.startswith("src/kiwishop/") and name.endswith(".py") for name in names)


def test_the_outside_reference_pattern_catches_each_form() -> None:
    sep = "/"  # the samples are assembled, so that this file does not match itself
    samples = (f"see `..{sep}shared{sep}spec{sep}`", f"(shared{sep}spec{sep}x.md)", f"in ..{sep}shared{sep}design.md")
    for text in samples:
        assert OUTSIDE_REFERENCE.search(text), text
    assert not OUTSIDE_REFERENCE.search("services share only `platform`; shared by services")


def test_no_repository_file_points_at_notes_kept_outside_the_repository() -> None:
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in text_files()
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE_REFERENCE.search(line)
    ]
    assert offending == [], "\n".join(offending)


def test_the_link_finder_sees_links_and_docs_paths() -> None:
    links = {written for doc in documents() for written, _ in relative_links(doc)}
    assert {"docs/design.md", "docs/original.md", "design.md", "original.md"} <= links


def test_every_relative_link_of_the_readme_and_docs_leads_to_a_file_in_the_repository() -> None:
    broken = [
        f"{doc.relative_to(ROOT)}: {written}"
        for doc in documents()
        for written, target in relative_links(doc)
        if not target.exists() or not target.is_relative_to(ROOT)
    ]
    assert broken == [], "\n".join(broken)
