"""Pytest fixtures shared by the Watchtrail Python client suites.

Each pytest session starts its own ``watchtrail serve`` on a fresh temporary data directory,
bound to loopback on an ephemeral port. The address is taken from the server's
``watchtrail listening on http://...`` line on stdout (read line by line, with a deadline),
and the server is stopped with SIGTERM when the fixture ends.

Environment (set by ``run.sh``; all optional when running pytest by hand):

* ``WATCHTRAIL_BIN``        path of the server binary (default: ``<repo>/target/debug/watchtrail``)
* ``WATCHTRAIL_PY_VENV``    ``current`` or ``legacy``: which client generation this venv holds
* ``WATCHTRAIL_PY_RESULTS`` directory for the canonical scenario result (``<venv>.json``)
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import os
import queue
import secrets
import signal
import sys
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
ACCESS_KEY_ID = "AKIAPYTESTKEY0000001"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0

# botocore 1.42.7 switched CloudWatch from awsQuery to awsJson1_0.
JSON_SINCE = (1, 42, 7)
EXPECTED_PROTOCOL = {"current": "json", "legacy": "query"}


def botocore_version() -> tuple[int, ...]:
    return tuple(int(p) for p in botocore.__version__.split(".")[:3])


def venv_kind() -> str:
    """Which client generation this interpreter is meant to hold.

    run.sh states it explicitly; by hand it is inferred from the installed botocore.
    """
    kind = os.environ.get("WATCHTRAIL_PY_VENV")
    if kind:
        if kind not in EXPECTED_PROTOCOL:
            raise pytest.UsageError(f"WATCHTRAIL_PY_VENV must be one of {sorted(EXPECTED_PROTOCOL)}, got {kind!r}")
        return kind
    return "current" if botocore_version() >= JSON_SINCE else "legacy"


# The AWS CLI smoke test belongs to the current venv only (the legacy venv has no awscli).
collect_ignore = ["test_cli.py", "test_cli_logs.py"] if venv_kind() != "current" else []


# --------------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Child-side: ask Linux to SIGTERM the server if pytest itself dies."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Server:
    endpoint: str
    access_key_id: str
    secret_access_key: str
    region: str
    account_id: str
    data_dir: Path
    proc: subprocess.Popen
    log_path: Path
    stdout_lines: list[str] = field(default_factory=list)

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return "\n".join(lines[-n:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def server_binary() -> Path:
    path = Path(os.environ.get("WATCHTRAIL_BIN") or REPO / "target" / "debug" / "watchtrail")
    if not path.is_file():
        raise RuntimeError(f"server binary {path} not found: run `cargo build -p watchtrail` first (run.sh does)")
    return path


def start_server(data_dir: Path) -> Server:
    """Starts `watchtrail serve` on `data_dir` and returns once it is listening."""
    secret = "pytest-" + secrets.token_hex(16)
    env = dict(os.environ)
    env.update(
        WATCHTRAIL_ROOT_ACCESS_KEY_ID=ACCESS_KEY_ID,
        WATCHTRAIL_ROOT_SECRET_ACCESS_KEY=secret,
        WATCHTRAIL_ACCOUNT_ID=ACCOUNT_ID,
    )
    log_path = data_dir.parent / (data_dir.name + ".stderr.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [str(server_binary()), "serve", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        env=env,
        preexec_fn=_die_with_parent,
    )
    log.close()
    lines: queue.Queue[str | None] = queue.Queue()
    seen: list[str] = []

    def pump() -> None:
        # Keeps draining stdout for the server's whole life so it never blocks on a full pipe.
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            seen.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, name="watchtrail-stdout", daemon=True).start()

    server = Server("", ACCESS_KEY_ID, secret, REGION, ACCOUNT_ID, data_dir, proc, log_path, seen)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    marker = "watchtrail listening on "
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            server.stop()
            raise RuntimeError(f"server did not print {marker!r} within {STARTUP_TIMEOUT_S}s\n{server.log_tail()}")
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            proc.wait()
            raise RuntimeError(f"server exited with {proc.returncode} before listening\n{server.log_tail()}")
        if line.startswith(marker):
            server.endpoint = line[len(marker):].strip()
            break
    host = urllib.parse.urlsplit(server.endpoint).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        server.stop()
        raise RuntimeError(f"server listens on non-loopback address {server.endpoint}")
    with urllib.request.urlopen(server.endpoint + "/_watchtrail/health", timeout=10) as r:
        if r.status != 200:
            server.stop()
            raise RuntimeError(f"health check answered {r.status}")
    return server


@contextlib.contextmanager
def running_server(prefix: str):
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        server = start_server(Path(tmp) / "data")
        try:
            yield server
        finally:
            server.stop()
            if server.proc.returncode not in (0, -signal.SIGTERM):
                print(f"\nwatchtrail exited with {server.proc.returncode}; log tail:\n{server.log_tail()}")


@pytest.fixture(scope="session")
def server():
    """One server for the whole session (error, protocol and CLI tests)."""
    with running_server("watchtrail-py-") as s:
        yield s


# --------------------------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------------------------


@dataclass
class SentRequest:
    operation: str
    headers: dict[str, str]
    body: bytes  # as sent (possibly gzip-compressed)

    @property
    def decoded_body(self) -> bytes:
        if self.headers.get("content-encoding", "").lower() == "gzip":
            return gzip.decompress(self.body)
        return self.body


class RequestRecorder:
    """Records every CloudWatch request a client puts on the wire (botocore `before-send`)."""

    def __init__(self) -> None:
        self.requests: list[SentRequest] = []

    def __call__(self, request, **_kwargs):
        body = request.body
        if body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, (bytes, bytearray)):
            body = body.read() if hasattr(body, "read") else bytes(body)
        headers = {k.lower(): (v.decode() if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()}
        target = headers.get("x-amz-target", "")
        operation = target.rsplit(".", 1)[-1] if target else ""
        sent = SentRequest(operation, headers, bytes(body))
        if not operation:
            form = urllib.parse.parse_qs(sent.decoded_body.decode("utf-8", "replace"))
            operation = form.get("Action", [""])[0]
            sent.operation = operation
        self.requests.append(sent)
        return None  # let botocore send it

    def last(self, operation: str) -> SentRequest:
        for r in reversed(self.requests):
            if r.operation == operation:
                return r
        raise AssertionError(f"no {operation} request was recorded; saw {[r.operation for r in self.requests]}")


def make_client(server: Server, *, access_key_id: str | None = None, secret_access_key: str | None = None):
    """A CloudWatch client for `server` with no retries (errors surface at once)."""
    client = boto3.session.Session().client(
        "cloudwatch",
        endpoint_url=server.endpoint,
        region_name=server.region,
        aws_access_key_id=access_key_id or server.access_key_id,
        aws_secret_access_key=secret_access_key or server.secret_access_key,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60),
    )
    recorder = RequestRecorder()
    client.meta.events.register("before-send.cloudwatch", recorder)
    client.recorder = recorder  # type: ignore[attr-defined]
    return client


def client_protocol(client) -> str:
    """The protocol botocore resolved for this client (``json`` or ``query``)."""
    model = client.meta.service_model
    return getattr(model, "resolved_protocol", None) or model.protocol


@pytest.fixture(scope="session")
def kind() -> str:
    return venv_kind()


@pytest.fixture(scope="session")
def cw(server, kind):
    client = make_client(server)
    expected = EXPECTED_PROTOCOL[kind]
    actual = client_protocol(client)
    if actual != expected:
        pytest.fail(
            f"venv {kind!r} (botocore {botocore.__version__}) resolved CloudWatch protocol {actual!r}, "
            f"expected {expected!r}: the venv does not hold the client generation it claims",
            pytrace=False,
        )
    return client


# --------------------------------------------------------------------------------------------
# The AWS CLI (current venv only)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aws(server, tmp_path_factory):
    """Runs the venv's own `aws` with --endpoint-url and credentials from the environment, and
    no config or credential files."""
    exe = Path(sys.executable).parent / "aws"
    assert exe.is_file(), f"the AWS CLI is not installed in this venv ({exe})"
    home = tmp_path_factory.mktemp("aws-cli-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=server.access_key_id,
        AWS_SECRET_ACCESS_KEY=server.secret_access_key,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_MAX_ATTEMPTS="1",
        AWS_PAGER="",
        HOME=str(home),
    )

    def run(*args: str, check: bool = True, **env_extra: str) -> subprocess.CompletedProcess:
        cmd = [str(exe), "--endpoint-url", server.endpoint, "--output", "json", *args]
        proc = subprocess.run(cmd, env={**env, **env_extra}, capture_output=True, text=True, timeout=60, cwd=home)
        if check and proc.returncode != 0:
            pytest.fail(f"{' '.join(args[:2])} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    run.home = home  # type: ignore[attr-defined]
    return run
