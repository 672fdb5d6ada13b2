"""Helpers of test_local_stack.py: starting `kiwishop run` and waiting for its banner, stopping it with Ctrl-C, the
process ids it records and whether they live, a JSON call, and a record on (and read back from) its broker."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from kiwishop.platform.settings import InfraSettings
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


def get_json(url: str, body: dict[str, object] | None = None, headers: dict[str, str] | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
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
