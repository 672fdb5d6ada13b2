"""SeaweedFS as `make run` runs it: only the ports it was given, on 127.0.0.1; and a weed that an earlier run
left behind on the same data folder does not block the next start, which finds the data."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from kiwishop_dev.devstack.infra import SeaweedFS, SeaweedPorts
from kiwishop_dev.devstack.procs import running


def s3(store: SeaweedFS, method: str, key: str, body: bytes | None = None) -> bytes:
    request = urllib.request.Request(f"{store.endpoint}/{store.bucket}/{key}", data=body, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5) as response:
        return bytes(response.read())


def listening_ports(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket the process listens on, from /proc/net/tcp (IPv6 ones raw)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = str(fd.readlink()) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:] + Path("/proc/net/tcp6").read_text().splitlines()[1:]
    for line in lines:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
            address, port = fields[1].split(":")
            if len(address) == 8:
                address = ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
            found.add((address, int(port, 16)))
    return found


def test_seaweedfs_listens_only_on_its_pinned_ports_on_the_loopback_address(tmp_path: Path) -> None:
    ports = SeaweedPorts.free()
    store = SeaweedFS(tmp_path / "data", ports, tmp_path / "logs")
    store.start()
    try:
        assert store.proc.pid is not None
        assert listening_ports(store.proc.pid) == {("127.0.0.1", port) for port in ports.all()}
    finally:
        store.stop()


def test_a_seaweedfs_left_running_on_the_data_folder_is_stopped_by_the_next_start_which_finds_the_data(
    tmp_path: Path,
) -> None:
    ports = SeaweedPorts.free()
    earlier = SeaweedFS(tmp_path / "data", ports, tmp_path / "logs")
    earlier.start()
    try:
        s3(earlier, "PUT", "kept", b"written by the earlier run")
        later = SeaweedFS(tmp_path / "data", ports, tmp_path / "logs")
        later.start()  # the earlier one still holds every port until this start stops it
        try:
            assert earlier.proc.pid is not None
            assert not running(earlier.proc.pid)
            assert s3(later, "GET", "kept") == b"written by the earlier run"
        finally:
            later.stop()
    finally:
        earlier.stop()
