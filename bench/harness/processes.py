"""Server processes: the emulator, or a bench-local server, each in its own process; and pinning
the server and the clients to separate CPUs."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.harness.common import API_KEY, HOST, STARTUP_TIMEOUT, BenchError, tail


def _schedstat_seconds(pid: int, field: int) -> float | None:
    """Field `field` of /proc schedstat summed over the threads of process `pid`, in seconds (Linux:
    0 = time on a CPU, 1 = time waiting for one on a run queue), else None."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tasks:
        try:
            total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[field])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
    return total / 1e9


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time the threads of process `pid` have used so far, else None."""
    return _schedstat_seconds(pid, 0)


def process_wait_seconds(pid: int) -> float | None:
    """Time the threads of process `pid` have spent ready to run but waiting for a CPU so far, else
    None: what other load on the machine costs a client (a waiting client looks like a slow one)."""
    return _schedstat_seconds(pid, 1)


@dataclass(frozen=True)
class ServerProcess:
    """A server the contenders talk to, running in a child process."""

    name: str  # "emulator", "replay server": used in logs and in the table's note
    host: str
    port: int
    api_key: str
    pid: int
    log_path: Path  # the child's stdout and stderr (exists while the server runs)

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def cpu_seconds(self) -> float | None:
        """CPU time the server's threads have used so far, else None (see process_cpu_seconds)."""
        return process_cpu_seconds(self.pid)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass(frozen=True)
class Pinning:
    """CPUs for the server and for the clients, so neither preempts the other on a small machine."""

    server: frozenset[int]
    client: frozenset[int]

    def describe(self) -> str:
        return f"server on CPU {_cpus(self.server)}, clients on CPU {_cpus(self.client)}"


def _cpus(cpus: frozenset[int]) -> str:
    return ",".join(str(c) for c in sorted(cpus))


def plan_pinning(enabled: bool) -> tuple[Pinning | None, str]:
    """The last usable CPU for the server, the others for the clients (None: no pinning, and why)."""
    if not enabled:
        return None, "not pinned (--no-pin)"
    if not hasattr(os, "sched_getaffinity"):
        return None, "not pinned (no CPU affinity on this platform)"
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, f"not pinned (only {len(cpus)} usable CPU)"
    pinning = Pinning(server=frozenset(cpus[-1:]), client=frozenset(cpus[:-1]))
    return pinning, pinning.describe()


def pin_this_process(cpus: frozenset[int]) -> None:
    """Every thread of this process onto `cpus` (threads and processes started later inherit it)."""
    try:
        threads = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]
    for tid in threads:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(tid, cpus)


LISTENING = re.compile(r"listening on (\S+):(\d+)")


def _wait_connectable(host: str, port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextlib.contextmanager
def server_process(
    name: str,
    cmd: Sequence[str],
    *,
    api_key: str = API_KEY,
    cpus: frozenset[int] | None = None,
    ready: re.Pattern[str] = LISTENING,
    timeout: float = STARTUP_TIMEOUT,
) -> Iterator[ServerProcess]:
    """`cmd` in a child process (on `cpus` if given) that prints `ready` (HOST, PORT groups) once it
    serves; yields once it accepts connections, and always stops it (SIGTERM, then SIGKILL)."""
    slug = re.sub(r"\W+", "-", name)
    with tempfile.TemporaryDirectory(prefix=f"modelwire-bench-{slug}-") as tmp:
        log_path = Path(tmp) / f"{slug}.log"
        mine = os.sched_getaffinity(0) if cpus else None
        with log_path.open("wb") as log_file:
            if cpus:
                os.sched_setaffinity(0, cpus)  # the child inherits this thread's affinity
            try:
                proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT
                )
            finally:
                if mine:
                    os.sched_setaffinity(0, mine)
        try:
            deadline = time.monotonic() + timeout
            match: re.Match[str] | None = None
            while match is None:
                match = ready.search(log_path.read_text(errors="replace"))
                if match is not None:
                    break
                if proc.poll() is not None:
                    raise BenchError(
                        f"the {name} exited with status {proc.returncode} before listening "
                        f"({' '.join(cmd)}):\n{tail(log_path)}"
                    )
                if time.monotonic() > deadline:
                    raise BenchError(
                        f"the {name} did not report listening within {timeout:.0f}s:\n{tail(log_path)}"
                    )
                time.sleep(0.05)
            host, port = match.group(1), int(match.group(2))
            try:
                _wait_connectable(host, port, deadline)
            except OSError as exc:
                raise BenchError(f"the {name} says {host}:{port} but refuses connections: {exc}") from exc
            yield ServerProcess(
                name=name, host=host, port=port, api_key=api_key, pid=proc.pid, log_path=log_path
            )
        finally:
            if proc.poll() is None:
                proc.terminate()  # SIGTERM: both `modelwire serve` and the replay server stop and exit
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def emulator_command(api_key: str = API_KEY, extra_args: Sequence[str] = ()) -> list[str]:
    """`modelwire serve` on a free port of HOST, with this interpreter (the venv's)."""
    return [
        sys.executable,
        "-m",
        "modelwire.cli",
        "serve",
        "--host",
        HOST,
        "--port",
        "0",
        "--api-key",
        api_key,
        *extra_args,
    ]
