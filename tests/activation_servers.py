"""Real servers for the activation tests: a PostgreSQL server started on a temporary directory
and port, and an HTTP JSON API shaped like an email tool's list API with injectable faults.

Both listen on 127.0.0.1. The HTTP server records every request it received (with its
idempotency key) and every member change it applied, so tests can tell duplicates and losses.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bindir() -> Path | None:
    """/usr/lib/postgresql/<version>/bin with initdb, the newest version (15 on Debian 12)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    return Path(found[-1]).parent if found else None


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in `root`, trust auth, listening on 127.0.0.1:`port`."""

    bindir: Path
    root: Path
    port: int
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.root / "postgres.log"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
            command = ["runuser", "-u", "postgres", "--", *command]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if completed.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed ({completed.returncode}):\n"
                f"{completed.stdout}{completed.stderr}\n{log[-2000:]}"
            )

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.root}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def is_running(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0


def start_postgres() -> PostgresServer:
    """A fresh PostgreSQL server; fails (never skips) when the binaries are missing."""
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): install "
            "Debian's `postgresql` package (`apt-get install postgresql`; .ci/run does it). The "
            "activation tests need a real server and are never skipped."
        )
    root = Path(tempfile.mkdtemp(prefix="activation-pg-"))
    server = PostgresServer(bindir, root, _free_port())
    server.init()
    server.start()
    return server


def remove_postgres(server: PostgresServer) -> None:
    if server.is_running():
        server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# The email-tool API
# --------------------------------------------------------------------------------------------

TOKEN = "test-token-123"


@dataclass
class Fault:
    """What the server does with one request instead of (or besides) answering it."""

    status: int | None = None  # answer this status without applying anything
    retry_after: str | None = None  # Retry-After header for that answer
    drop_before: bool = False  # close the connection without applying or answering
    drop_after: bool = False  # apply, then close the connection without answering
    delay_s: float = 0.0  # apply, then wait this long before answering (client time-outs)
    hold_before_s: float = 0.0  # wait this long before applying (a kill point: not applied)


@dataclass
class Received:
    number: int
    path: str
    list_name: str
    action: str
    key: str | None
    emails: list[str]
    outcome: str
    at: float = field(default_factory=time.monotonic)


class EspState:
    """The API's data and its log; `fault` picks a Fault for the n-th request (1-based)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.members: dict[str, dict[str, dict[str, Any]]] = {}
        self.received: list[Received] = []
        self.applied: list[tuple[str, str, str, str]] = []  # (key, list, action, email)
        # (key, list, action, email, first_name, last_name) of each application, in order
        self.applied_members: list[tuple[str, str, str, str, str | None, str | None]] = []
        self.answers: dict[str, bytes] = {}
        self.fault: Callable[[int], Fault | None] = lambda number: None
        self.reject: Callable[[str], str | None] = lambda email: None
        self.reject_batch_status: int | None = None  # e.g. 422 for every batch of a list
        self.reject_batch_list: str | None = None
        # A strict API: an add batch with any address `reject` refuses is answered with this
        # status (e.g. 400) and {"errors": [{"email", "error"}]}, and nothing of it is applied.
        self.strict_status: int | None = None
        # A size limit: a batch of more members than this is answered 413 Payload Too Large.
        self.max_members: int | None = None
        # The per-row status of an applied member, by action (APIs say "added", "removed"...).
        self.ok_status: dict[str, str] = {"add": "ok", "remove": "ok"}
        # POST /events (automation steps): the events applied, in order, as (key, body); a key
        # seen before is answered with its first answer and not applied again.
        self.events: list[tuple[str, dict[str, Any]]] = []
        # An event this refuses (a status, e.g. 422) is answered so and not applied.
        self.refuse_event: Callable[[dict[str, Any]], int | None] = lambda event: None

    def reset_log(self) -> None:
        with self.lock:
            self.received.clear()
            self.applied.clear()
            self.applied_members.clear()
            self.events.clear()

    def member_emails(self) -> dict[str, set[str]]:
        with self.lock:
            return {name: set(members) for name, members in self.members.items() if members}


def _handler(state: EspState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", 0))
            payload = json.loads(self.rfile.read(length) or b"{}")
            parts = self.path.strip("/").split("/")  # lists/<list>/members/<add|remove>
            is_event = parts[-1] == "events"  # POST .../events: one automation step
            if is_event:
                list_name, action = str(payload.get("template_key")), "event"
            else:
                list_name, action = urllib.parse.unquote(parts[1]), parts[-1]
            key = self.headers.get("Idempotency-Key")
            emails = (
                [payload.get("email")]
                if is_event
                else [member["email"] for member in payload.get("members", [])]
            )
            with state.lock:
                number = len(state.received) + 1
                fault = state.fault(number) or Fault()
                record = Received(number, self.path, list_name, action, key, emails, "")
                state.received.append(record)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                record.outcome = "401"
                self._answer(401, b'{"error": "bad token"}')
                return
            if fault.drop_before:
                record.outcome = "dropped before applying"
                self._drop()
                return
            if fault.hold_before_s:
                record.outcome = "held before applying"
                time.sleep(fault.hold_before_s)
                record.outcome = ""
            if fault.status is not None:
                record.outcome = str(fault.status)
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
                self._answer(fault.status, b'{"error": "injected"}', headers)
                return
            if state.max_members is not None and len(emails) > state.max_members:
                record.outcome = "413"
                self._answer(413, b'{"error": "payload too large"}')
                return
            if state.reject_batch_status and list_name == state.reject_batch_list:
                record.outcome = str(state.reject_batch_status)
                self._answer(state.reject_batch_status, b'{"error": "list is archived"}')
                return
            if state.strict_status and action == "add":
                errors = [
                    {"email": email, "error": error}
                    for email in emails
                    if (error := state.reject(email))
                ]
                if errors:
                    record.outcome = str(state.strict_status)
                    self._answer(state.strict_status, json.dumps({"errors": errors}).encode())
                    return
            refused_status = state.refuse_event(payload) if is_event else None
            if refused_status is not None:
                record.outcome = str(refused_status)
                self._answer(refused_status, b'{"error": "event refused"}')
                return
            with state.lock:
                if key and key in state.answers:
                    body = state.answers[key]
                    record.outcome = "replayed"
                elif is_event:
                    state.events.append((key or "", payload))
                    body = json.dumps({"status": "accepted"}).encode()
                    if key:
                        state.answers[key] = body
                    record.outcome = "applied"
                else:
                    results = []
                    members = state.members.setdefault(list_name, {})
                    for member in payload.get("members", []):
                        email = member["email"]
                        error = state.reject(email) if action == "add" else None
                        if error:
                            results.append({"email": email, "status": "rejected", "error": error})
                            continue
                        if action == "add":
                            members[email] = member
                        else:
                            members.pop(email, None)
                        state.applied.append((key or "", list_name, action, email))
                        state.applied_members.append(
                            (
                                key or "",
                                list_name,
                                action,
                                email,
                                member.get("first_name"),
                                member.get("last_name"),
                            )
                        )
                        results.append({"email": email, "status": state.ok_status[action]})
                    body = json.dumps({"results": results}).encode()
                    if key:
                        state.answers[key] = body
                    record.outcome = "applied"
            if fault.drop_after:
                record.outcome += ", then dropped"
                self._drop()
                return
            if fault.delay_s:
                time.sleep(fault.delay_s)
            try:
                self._answer(200, body)
            except OSError:
                record.outcome += ", answer lost"

    return Handler


class EspServer:
    def __init__(self) -> None:
        self.state = EspState()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> EspServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
