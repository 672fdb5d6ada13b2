"""`make run` as a newcomer uses it: the stack comes up, serves catalog, stops on Ctrl-C leaving no process
behind, and a second start finds the same data. Runs `kiwishop run` in a scratch folder on free ports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kiwishop.devstack.fleet import service_ports_env
from kiwishop.devstack.procs import free_port
from kiwishop.devstack.services import definitions


def start_stack(root: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kiwishop", "run"], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def wait_for_banner(proc: subprocess.Popen[bytes], timeout_s: float = 90) -> str:
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout_s
    os.set_blocking(proc.stdout.fileno(), False)
    while time.monotonic() < deadline:
        chunk = proc.stdout.read() or b""
        seen += chunk
        if b"kiwi-shop is up" in seen and b"stop: Ctrl-C" in seen:
            return seen.decode()
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"stack did not come up:\n{seen.decode()}")


def get_json(url: str, body: dict[str, object] | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def stop_with_ctrl_c(proc: subprocess.Popen[bytes], root: Path) -> list[int]:
    pids = list(json.loads((root / ".run" / "pids.json").read_text()).values())
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=90)
    return pids


@pytest.mark.slow
def test_make_run_serves_catalog_stops_cleanly_and_keeps_its_data(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("db", "redis", "kafka")}
    service_ports = {service.name: free_port() for service in definitions()}
    env = {
        **os.environ,
        "KIWI_DB_PORT": str(ports["db"]),
        "KIWI_DB_PASSWORD": "stack-test",
        "KIWI_REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        "KIWI_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{ports['kafka']}",
        **service_ports_env(service_ports),
    }
    ports["catalog"] = service_ports["catalog"]
    base = f"http://127.0.0.1:{ports['catalog']}"

    first = start_stack(tmp_path, env)
    try:
        banner = wait_for_banner(first)
        assert f"http://localhost:{ports['catalog']}" in banner
        products = get_json(f"{base}/products?productNoList=1&productNoList=3")
        assert [p["productNo"] for p in products["productList"]] == [1, 3]  # type: ignore[index]
        created = get_json(f"{base}/api/products", {"sellerNo": 1, "productId": "D", "name": "상품D", "price": 4000})
    finally:
        pids = stop_with_ctrl_c(first, tmp_path)
    assert first.returncode == 0
    assert len(pids) == 3 + len(service_ports)  # mariadb, redis, tansu and every service
    assert [pid for pid in pids if alive(pid)] == []
    assert not (tmp_path / ".run" / "stack.pid").exists()

    second = start_stack(tmp_path, env)
    try:
        wait_for_banner(second)
        again = get_json(f"{base}/products/{created['productNo']}")  # type: ignore[index]
        assert again == created
        pids = list(json.loads((tmp_path / ".run" / "pids.json").read_text()).values())
    finally:  # this time the way `make stop` does it, from another process
        stopped = subprocess.run([sys.executable, "-m", "kiwishop", "stop"], cwd=tmp_path, env=env, timeout=120)
        second.wait(timeout=30)
    assert stopped.returncode == 0
    assert second.returncode == 0
    assert [pid for pid in pids if alive(pid)] == []
