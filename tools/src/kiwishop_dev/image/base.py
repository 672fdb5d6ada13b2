"""A stand-in for the Dockerfile's base image (``python:3.11.13-slim-bookworm``), made on this machine.

No image registry is reachable here, so the base comes from Debian's own archive: a ``debootstrap`` bookworm
(minbase) with Python 3.11, venv support and a ``python`` on PATH, imported into podman under the Dockerfile's
base name. The Dockerfile then builds unchanged. Made once: later runs find it in podman's storage.

The mirror is the one this machine's apt already uses (read at run time), else debootstrap's own default. The
certificate authorities this machine trusts besides Debian's (``/usr/local/share/ca-certificates``, e.g. a
proxy's) are trusted inside too, so that pip in the build reaches the package index the way pip here does.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from kiwishop_dev.image.podman import Podman, PodmanError

SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "python-is-python3", "ca-certificates")
LOCAL_CAS = Path("/usr/local/share/ca-certificates")
APT_DIR = Path("/etc/apt")
# Every image built on the stand-in inherits this label: how image-check finds its own old builds.
BASE_LABEL = "org.kiwishop.base=debootstrap"
# What the python image sets and a bare root filesystem lacks.
CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["python3"]',
    f"LABEL {BASE_LABEL}",
)
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", re.IGNORECASE | re.MULTILINE)


def dockerfile_base(dockerfile: Path) -> str:
    """The first image a FROM names that is not an earlier stage."""
    stages: set[str] = set()
    for line in dockerfile.read_text().splitlines():
        match = _FROM.match(line)
        if not match:
            continue
        image = match.group(1)
        if image.lower() not in stages:
            return image
        parts = line.split()
        if len(parts) >= 4 and parts[-2].upper() == "AS":
            stages.add(parts[-1].lower())
    raise ValueError(f"{dockerfile} names no base image")


def apt_mirror(apt_dir: Path = APT_DIR) -> str | None:
    """The archive this machine's apt fetches ``bookworm`` from, if its sources say."""
    for uris, suites in _sources(apt_dir):
        if SUITE in suites and uris:
            return uris[0]
    return None


def _sources(apt_dir: Path) -> Iterator[tuple[list[str], list[str]]]:
    """(URIs, suites) of every ``deb`` entry: one-line ``.list`` files and deb822 ``.sources`` files."""
    lists = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    for path in lists:
        for line in _read(path).splitlines():
            words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
            if len(words) >= 3 and words[0] == "deb":
                yield [words[1]], [words[2]]
    for path in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        for block in re.split(r"\n\s*\n", _read(path)):
            fields = _deb822(block)
            if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes") != "no":
                yield fields.get("uris", "").split(), fields.get("suites", "").split()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _deb822(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in block.splitlines():
        if line.startswith("#") or ":" not in line or line[:1].isspace():
            continue
        key, value = line.split(":", 1)
        fields[key.strip().lower()] = value.strip()
    return fields


def make_base_image(podman: Podman, name: str, log: Path) -> None:
    """debootstrap into a scratch folder, trust this machine's extra CAs, trim apt's caches, import as ``name``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with _scratch_root() as root, log.open("w") as out:
        mirror = apt_mirror()
        argv = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(root)]
        _run([*argv, *([mirror] if mirror else [])], out, log)
        _trust_local_cas(root, out, log)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (root / junk).glob("*"):
                if path.is_file():
                    path.unlink()
        _import(podman, root, name, out, log)


def _trust_local_cas(root: Path, out: IO[str], log: Path) -> None:
    if not any(LOCAL_CAS.rglob("*.crt")):
        return
    shutil.copytree(LOCAL_CAS, root / LOCAL_CAS.relative_to("/"), dirs_exist_ok=True)
    _run(["chroot", str(root), "update-ca-certificates"], out, log)


def _import(podman: Podman, root: Path, name: str, out: IO[str], log: Path) -> None:
    changes = [arg for change in CHANGES for arg in ("--change", change)]
    tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
    try:
        imported = subprocess.run(
            podman.command("import", "--quiet", *changes, "-", name),
            stdin=tar.stdout, stdout=out, stderr=subprocess.STDOUT, check=False,
        )  # fmt: skip
    finally:
        assert tar.stdout is not None
        tar.stdout.close()
        tar.wait()
    if imported.returncode != 0 or tar.returncode != 0:
        raise PodmanError(f"importing the base image failed; see {log}")


def _run(argv: list[str], out: IO[str], log: Path) -> None:
    code = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    if code != 0:
        raise PodmanError(f"{argv[0]} failed (exit {code}); see {log}")


@contextlib.contextmanager
def _scratch_root() -> Iterator[Path]:
    """A folder for the root filesystem, removed afterwards — after unmounting what an interrupted debootstrap
    may have left mounted inside (its /proc), so that the removal never reaches the host's."""
    base = Path(tempfile.mkdtemp(prefix="kiwishop-base-", dir="/var/tmp"))
    try:
        yield base / "root"
    finally:
        for mount in _mounts_under(base):
            subprocess.run(["umount", "--lazy", mount], check=False)
        if not _mounts_under(base):
            shutil.rmtree(base, ignore_errors=True)


def _mounts_under(base: Path) -> list[str]:
    prefix = f"{base}/"
    points = [line.split()[1] for line in _read(Path("/proc/mounts")).splitlines() if len(line.split()) > 1]
    return sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True)
