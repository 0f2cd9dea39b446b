"""Start and stop a local pouchdb-server (the CouchDB-compatible test server).

Plain functions with no pytest dependency, so that both the session fixture
(tests/services/couch.py) and the benchmark (bench/store.py) use the same code.
Quirks handled here are listed in ../shared/TEST-SERVICES.md: the health check is
`GET /` (no `/_up`), and a server already on the port would pass a naive check,
so the port is checked free first and our own process is checked alive after.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
POUCHDB_SERVER = REPO_ROOT / "node_modules" / ".bin" / "pouchdb-server"
START_TIMEOUT_S = 30.0


class CouchServerError(RuntimeError):
    """The test server could not be started or died."""


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    workdir: tempfile.TemporaryDirectory[str]

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.workdir.cleanup()


def free_port() -> int:
    """A TCP port nobody listens on right now (bind to 0, then check it is really free)."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if not port_in_use(port):
            return port
    raise CouchServerError("no free TCP port found on 127.0.0.1")


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/", timeout=2) as response:
            body = json.loads(response.read())
    except (OSError, ValueError):
        return False
    return isinstance(body, dict)


def start_pouchdb_server() -> RunningServer:
    """Start pouchdb-server --in-memory on a free port of 127.0.0.1 and wait until it answers."""
    if not POUCHDB_SERVER.exists():
        raise CouchServerError(
            f"{POUCHDB_SERVER} is missing: run `make test` (it runs `npm ci --ignore-scripts`)"
            " or `npm ci --ignore-scripts` in the repository root"
        )
    port = free_port()
    workdir = tempfile.TemporaryDirectory(prefix="mcprod-pouchdb-")
    log_path = Path(workdir.name) / "server.log"
    with log_path.open("wb") as log:
        # cwd is a scratch folder: pouchdb-server writes its config and log files there.
        process = subprocess.Popen(
            [str(POUCHDB_SERVER), "--in-memory", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir.name,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", process, log_path, workdir)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not server.alive():
            tail = server.log_tail()
            server.stop()
            raise CouchServerError(f"pouchdb-server exited with {process.returncode}:\n{tail}")
        if answers(server.url):
            if not server.alive():  # someone else answered on our port
                server.stop()
                raise CouchServerError(f"port {port} answered, but not by our pouchdb-server")
            return server
        time.sleep(0.1)
    tail = server.log_tail()
    server.stop()
    raise CouchServerError(f"pouchdb-server did not answer within {START_TIMEOUT_S:.0f} s:\n{tail}")


def http_json(method: str, url: str, body: object | None = None, timeout: float = 10) -> object:
    """One JSON request; credentials in the URL's user info become Basic auth."""
    parts = urllib.parse.urlsplit(url)
    headers = {"Accept": "application/json"}
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
        netloc = parts.hostname or ""
        if parts.port is not None:
            netloc += f":{parts.port}"
        url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"  # pouchdb-server drops bodies without it
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())
