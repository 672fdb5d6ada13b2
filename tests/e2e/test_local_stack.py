"""`make run` as a newcomer uses it: the stack comes up, serves catalog, stops (`make stop`, Ctrl-C) leaving
no process behind, and the next start — after a stop or after everything was killed with -9 — finds the same
data: the database rows, and the records on the broker, which keeps them in SeaweedFS. Runs `kiwishop run`
in a scratch folder on free ports."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from kiwishop.platform.settings import InfraSettings
from kiwishop.services import definitions
from kiwishop_dev.devstack.fleet import service_ports_env
from kiwishop_dev.devstack.infra import SeaweedPorts
from kiwishop_dev.devstack.procs import free_port
from tests.support import read_topic

TOPIC = "e2e-local-stack-durable"


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


def recorded_pids(root: Path) -> dict[str, int]:
    return {str(name): int(pid) for name, pid in json.loads((root / ".run" / "pids.json").read_text()).items()}


def stop_with_ctrl_c(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)


async def produce(bootstrap: str, value: bytes) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if TOPIC not in await admin.list_topics():
            await admin.create_topics([NewTopic(TOPIC, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(TOPIC, value, key=b"stack", headers=[("made-by", b"e2e")])
    finally:
        await producer.stop()


def on_broker(bootstrap: str, expect: int) -> list[tuple[bytes | None, bytes | None, tuple[tuple[str, bytes], ...]]]:
    records = asyncio.run(read_topic(InfraSettings(kafka_bootstrap_servers=bootstrap), TOPIC, expect=expect))
    return [(r.key, r.value, tuple(r.headers or ())) for r in records]


@pytest.mark.slow
@pytest.mark.timeout(900)  # three stack starts and stops, each with deadlines of its own (up to 240 s for a stop)
def test_make_run_keeps_rows_and_broker_records_across_make_stop_and_kill_9_and_stops_cleanly(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("db", "redis", "kafka")}
    service_ports = {service.name: free_port() for service in definitions()}
    env = {
        **os.environ,
        "KIWI_DB_PORT": str(ports["db"]),
        "KIWI_DB_PASSWORD": "stack-test",
        "KIWI_REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        "KIWI_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{ports['kafka']}",
        "KIWI_LOCAL_SEAWEEDFS_PORT": str(SeaweedPorts.free().s3),
        **service_ports_env(service_ports),
    }
    env.pop("KIWI_LOCAL_BROKER_STORAGE", None)  # the default: the broker keeps its data in SeaweedFS
    bootstrap = f"127.0.0.1:{ports['kafka']}"
    base = f"http://127.0.0.1:{service_ports['catalog']}"
    kept = (b"stack", b"produced before make stop", (("made-by", b"e2e"),))

    first = start_stack(tmp_path, env)
    try:
        banner = wait_for_banner(first)
        assert f"http://localhost:{service_ports['catalog']}" in banner
        products = get_json(f"{base}/products?productNoList=1&productNoList=3")
        assert [p["productNo"] for p in products["productList"]] == [1, 3]  # type: ignore[index]
        created = get_json(f"{base}/api/products", {"sellerNo": 1, "productId": "D", "name": "상품D", "price": 4000})
        asyncio.run(produce(bootstrap, kept[1]))
        pids = recorded_pids(tmp_path)
    finally:  # the way `make stop` does it, from another process
        stopped = subprocess.run([sys.executable, "-m", "kiwishop", "stop"], cwd=tmp_path, env=env, timeout=240)
        first.wait(timeout=30)
    assert stopped.returncode == 0
    assert first.returncode == 0
    assert set(pids) == {"mariadb", "redis", "seaweedfs", "tansu", *service_ports}
    assert [name for name, pid in pids.items() if alive(pid)] == []
    assert not (tmp_path / ".run" / "stack.pid").exists()

    second = start_stack(tmp_path, env)
    try:
        wait_for_banner(second)
        again = get_json(f"{base}/products/{created['productNo']}")  # type: ignore[index]
        assert again == created
        assert on_broker(bootstrap, expect=1) == [kept]
        asyncio.run(produce(bootstrap, b"produced before kill -9"))
    finally:  # a crash: the supervisor and every process it started, killed with -9 at once
        for pid in [second.pid, *recorded_pids(tmp_path).values()]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        second.wait(timeout=30)

    third = start_stack(tmp_path, env)
    try:
        wait_for_banner(third)
        assert get_json(f"{base}/products/{created['productNo']}") == created  # type: ignore[index]
        assert on_broker(bootstrap, expect=2) == [kept, (b"stack", b"produced before kill -9", kept[2])]
    finally:  # this time with Ctrl-C
        pids = recorded_pids(tmp_path)
        stop_with_ctrl_c(third)
    assert third.returncode == 0
    assert [name for name, pid in pids.items() if pid and alive(pid)] == []
