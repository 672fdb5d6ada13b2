"""Podman as this machine can run it: as root, with the ``runc`` runtime, on the host network, the containers'
open-files and process limits pinned to ones this process may hand out.

Measured here (Debian 12, podman 4.3, cgroup v1 without systemd): podman's default runtime ``crun`` refuses
this cgroup layout ("cgroups in hybrid mode not supported"), ``runc`` works. Unasked, podman gives every
container 1048576 open files and processes, and runc may not raise a limit above the sandbox's hard one ("error
setting rlimit type 7: operation not permitted"), so every container gets ``--ulimit`` at our own ceiling.
Flags only: nothing is written into /etc/containers.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# What image-check needs from Debian: podman and the runtime it can use here, debootstrap for the base image,
# and what podman recommends beyond that (uidmap, slirp4netns, fuse-overlayfs).
APT_PACKAGES = ("podman", "runc", "debootstrap", "uidmap", "slirp4netns", "fuse-overlayfs")
# podman 4.3 sets its own process limit to 32768 as it starts (strace: setrlimit(RLIMIT_NPROC, 32*1024)), so no
# container may ask for more, whatever our own hard limit is.
PODMAN_NPROC_CEILING = 32 * 1024
NOFILE_FALLBACK = 1 << 20
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
SHORT_ID = 11  # podman build names each step's image by this many hex digits ("--> 2e047e09c9d")
_STEP_IMAGE = re.compile(r"^--> (?:Using cache )?([0-9a-f]{11,64})\s*$", re.MULTILINE)


class PodmanError(RuntimeError):
    pass


def missing_packages(packages: Iterable[str] = APT_PACKAGES) -> list[str]:
    return [p for p in packages if not _installed(p)]


def _installed(package: str) -> bool:
    query = ["dpkg-query", "-W", "-f=${Status}", package]
    result = subprocess.run(query, capture_output=True, text=True, check=False)
    return "install ok installed" in result.stdout


def ensure_packages(packages: Sequence[str] = APT_PACKAGES) -> list[str]:
    """Installs the missing ones with apt (as root), like scripts/bootstrap.sh; returns what it installed."""
    missing = missing_packages(packages)
    if not missing:
        return []
    if os.geteuid() != 0:
        raise PodmanError(f"image-check needs these Debian packages: {' '.join(missing)}; run it as root")
    print(f"image-check: installing Debian packages: {' '.join(missing)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]
    with no_service_starts():
        subprocess.run([*apt, "update", "-q"], check=True, env=env)
        subprocess.run([*apt, "install", "-y", "-q", "--no-install-recommends", *missing], check=True, env=env)
    return missing


@contextlib.contextmanager
def no_service_starts() -> Iterator[None]:
    """A policy-rc.d that refuses every start while packages install (podman's units, for one): nothing
    system-wide is started; a policy already in place is left as it is."""
    created = False
    if not POLICY_RC_D.exists():
        POLICY_RC_D.write_text("#!/bin/sh\nexit 101\n")
        POLICY_RC_D.chmod(0o755)
        created = True
    try:
        yield
    finally:
        if created:
            POLICY_RC_D.unlink(missing_ok=True)


def pinned_limits() -> dict[str, int]:
    """Open files and processes per container: our own hard limits, the processes at most podman's ceiling."""
    return {
        "nofile": _hard_limit(resource.RLIMIT_NOFILE, NOFILE_FALLBACK),
        "nproc": min(_hard_limit(resource.RLIMIT_NPROC, PODMAN_NPROC_CEILING), PODMAN_NPROC_CEILING),
    }


def _hard_limit(which: int, unlimited: int) -> int:
    hard = resource.getrlimit(which)[1]
    return unlimited if hard == resource.RLIM_INFINITY else int(hard)


@dataclass(frozen=True)
class Podman:
    runtime: str = "runc"
    limits: Mapping[str, int] = field(default_factory=pinned_limits)

    def command(self, *args: str) -> list[str]:
        return ["podman", "--runtime", self.runtime, *args]

    def ulimits(self) -> list[str]:
        return [f"--ulimit={name}={value}:{value}" for name, value in self.limits.items()]

    def call(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        """Runs podman and returns its output; a failure raises with podman's own words."""
        result = subprocess.run(self.command(*args), capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise PodmanError(f"podman {args[0]} failed (exit {result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def image_id(self, name: str) -> str | None:
        try:
            return self.call("image", "inspect", "--format", "{{.Id}}", name).strip() or None
        except PodmanError:
            return None

    def build(self, dockerfile: Path, tag: str, context: Path, log: Path) -> set[str]:
        """``podman build``, output to ``log``: the base image only from local storage (no registry to ask),
        RUN steps on the host network (no bridge to set up for pip). Returns the (short) ids of the images its
        steps made or took from the cache (``SHORT_ID`` digits)."""
        argv = self.command(
            "build", "--runtime", self.runtime, "--pull=never", "--network=host", *self.ulimits(),
            "--file", str(dockerfile), "--tag", tag, str(context),
        )  # fmt: skip
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as out:
            code = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
        if code != 0:
            raise PodmanError(f"podman build failed (exit {code}); its last lines ({log}):\n{tail(log, 30)}")
        return {match.group(1)[:SHORT_ID] for match in _STEP_IMAGE.finditer(log.read_text(errors="replace"))}

    def remove_dangling(self, label: str, keep: set[str]) -> None:
        """Removes the untagged images carrying ``label`` (earlier builds' stages) but those in ``keep``: the
        current build's, whose stage images are the layer cache of the next build."""
        out = self.call("images", "--filter", "dangling=true", "--filter", f"label={label}", "--format", "{{.ID}}")
        stale = [image for image in out.split() if image[:SHORT_ID] not in keep]
        if stale:
            subprocess.run(self.command("rmi", *stale), capture_output=True, check=False)  # one still used stays

    def run_detached(
        self, name: str, image: str, command: Sequence[str], *, env: Mapping[str, str], labels: Mapping[str, str]
    ) -> None:
        """A container on the host network with ``env`` (passed by name, so values stay out of argv)."""
        args = ["run", "--detach", "--pull=never", "--network=host", "--name", name, *self.ulimits()]
        args += [f"--label={key}={value}" for key, value in labels.items()]
        args += [f"--env={key}" for key in env]
        self.call(*args, image, *command, env={**os.environ, **env})

    def states(self, label: str) -> dict[str, str]:
        """Container name → state of every container carrying ``label``: "Up 3 seconds", "Exited (1) 2 seconds
        ago" (podman 4.3; later versions say "running", "exited")."""
        out = self.call("ps", "--all", "--filter", f"label={label}", "--format", "{{.Names}} {{.State}}")
        return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)

    def label_values(self, label: str) -> dict[str, str]:
        """Container name → the value of ``label``, for every container carrying it."""
        template = '{{.Names}} {{index .Labels "' + label + '"}}'
        out = self.call("ps", "--all", "--filter", f"label={label}", "--format", template)
        return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)

    def logs(self, name: str, lines: int) -> str:
        result = subprocess.run(
            self.command("logs", "--tail", str(lines), name), capture_output=True, text=True, check=False
        )
        return (result.stdout + result.stderr).rstrip()

    def remove(self, names: Sequence[str], stop_timeout_s: int = 10) -> None:
        """Stops (SIGTERM, then SIGKILL after the timeout) and removes them; missing ones are no error."""
        if names:
            self.call("rm", "--force", "--ignore", "--time", str(stop_timeout_s), *names)


def tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no output)"
