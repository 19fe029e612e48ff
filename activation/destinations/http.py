"""An HTTP JSON API shaped like the common email tools' list APIs.

For each batch (one action, one segment, at most batch_size contacts):

    POST {base_url}{add_path}      {"list": "<list>", "members": [{"email", "first_name",
                                     "last_name", "external_id"}, ...]}
    POST {base_url}{remove_path}   {"list": "<list>", "members": [{"email"}, ...]}

with headers `Content-Type: application/json`, `Idempotency-Key: <key>` and the auth header
(`Authorization: Bearer <secret from the environment>` by default). `{list}` in the paths and
`list_name` is formatted with segment_key, segment and segment_family.

A 2xx answer may carry per-row results, `{"results": [{"email": ..., "status": "ok" | "rejected",
"error": ...}]}`: refused rows are recorded as rejected, the others delivered. 429, 5xx, 408,
time-outs and dropped connections are retried with exponential backoff (or as long as a 429 or
5xx's `Retry-After` says, in seconds or as an HTTP date) up to max_attempts; a Retry-After longer
than retry_after_max_s stops the sync at once (a run nobody watches must not sleep for hours; the
next run resumes from the ledger); a 404 on a removal
means the member is already gone and counts as delivered; a 413 (payload too large) halves the
batch until the API takes it (one member too large alone is rejected); another 4xx rejects
the batch's rows (recorded with the answer) and the sync goes on; 401/403 stop the sync (the secret
is wrong). The idempotency key is derived from the destination, the list, the action and, per row,
the identifier, the payload's hash and how many times that (contact, segment, identifier) was
delivered before (from the ledger). A batch sent again (a retry, or the rerun after a crash:
nothing of it was acknowledged) carries the same key and the API can recognise it; a later,
different change of the same rows (a contact that leaves and re-enters a list, a name changed back)
carries a new key, so an API that remembers keys does not answer it with the old, replayed result
without applying it.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from activation.config import Destination
from activation.ledger import SyncRun
from activation.warehouse import SCHEMA, batches, fetch_rows

RETRYABLE_ERRORS = (
    urllib.error.URLError,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
    socket.timeout,
)

# Per-row statuses of a 2xx answer that mean the row was refused; any other status is applied.
REFUSED_STATUSES = frozenset(
    ("rejected", "refused", "error", "errored", "failed", "failure", "invalid", "denied",
     "blocked", "bounced", "suppressed")
)  # fmt: skip


def idempotency_key(destination: str, list_name: str, action: str, identifiers: list[str]) -> str:
    digest = hashlib.sha256()
    for part in (destination, list_name, action, *sorted(identifiers)):
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()[:32]


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (a number or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class HttpAdapter:
    def __init__(self, destination: Destination, sleep: Callable[[float], None] = time.sleep):
        from activation.destinations import DestinationError

        self.destination = destination
        options = destination.options
        self.base_url = (
            destination.env("base_url_env", "the API base URL")
            if options.get("base_url_env")
            else str(options["base_url"])
        ).rstrip("/")
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if options.get("auth_env"):
            secret = destination.env("auth_env", "the API key")
            scheme = options.get("auth_scheme", "Bearer")
            header = options.get("auth_header", "Authorization")
            self.headers[header] = f"{scheme} {secret}" if scheme else secret
        self.list_name = str(options.get("list_name", "{segment_key}"))
        self.add_path = str(options.get("add_path", "/lists/{list}/members/add"))
        self.remove_path = str(options.get("remove_path", "/lists/{list}/members/remove"))
        self.timeout = float(options.get("timeout_s", 30))
        self.max_attempts = int(options.get("max_attempts", 6))
        self.backoff_initial = float(options.get("backoff_initial_s", 1.0))
        self.backoff_max = float(options.get("backoff_max_s", 60.0))
        self.retry_after_max = float(options.get("retry_after_max_s", 300.0))
        if self.max_attempts < 1:
            raise DestinationError(f"destination {destination.name!r}: max_attempts must be >= 1")
        self.sleep = sleep
        self.target = f"http:{self.base_url}|{self.list_name}|{self.add_path}|{self.remove_path}"

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))

    def _post(self, url: str, body: bytes, key: str) -> tuple[int, str]:
        """POST once; (status, body). Raises the retryable network errors."""
        request = urllib.request.Request(
            url, data=body, method="POST", headers={**self.headers, "Idempotency-Key": key}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            try:
                text = error.read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException):
                text = ""
            self._retry_after = error.headers.get("Retry-After") if error.headers else None
            return error.code, text

    def _server_wait(self, url: str, status: int, attempt: int) -> float:
        """Seconds to wait before the next attempt after a 429 or 5xx: the answer's Retry-After,
        else the backoff. A Retry-After beyond retry_after_max_s stops the sync."""
        from activation.destinations import DestinationError

        after = retry_after_seconds(self._retry_after)
        if after is None:
            return self._backoff(attempt)
        if after > self.retry_after_max:
            raise DestinationError(
                f"destination {self.destination.name!r}: HTTP {status} from {url} asks to retry "
                f"after {after:.0f} s (Retry-After: {self._retry_after}), more than "
                f"options.retry_after_max_s ({self.retry_after_max:g} s): the sync stops here; the "
                "next run sends what is left (raise retry_after_max_s to wait instead)"
            )
        return after

    def send(self, url: str, payload: dict[str, Any], key: str) -> tuple[int, str]:
        """POST with retries; the final (status, body) of a 2xx or non-retryable 4xx."""
        from activation.destinations import DestinationError

        body = json.dumps(payload, separators=(",", ":")).encode()
        last = "no attempt"
        for attempt in range(1, self.max_attempts + 1):
            self._retry_after = None
            try:
                status, text = self._post(url, body, key)
            except RETRYABLE_ERRORS as error:
                last = f"{type(error).__name__}: {error}"
                wait = self._backoff(attempt)
            else:
                if 200 <= status < 300:
                    return status, text
                if status in (401, 403):
                    variable = self.destination.options.get("auth_env")
                    raise DestinationError(
                        f"destination {self.destination.name!r}: HTTP {status} from {url}: the "
                        f"API refused the credentials (check ${variable}): {text[:200]}"
                    )
                if status == 429:
                    last = "HTTP 429 Too Many Requests"
                    wait = self._server_wait(url, status, attempt)
                elif status >= 500 or status == 408:
                    # 503 (and others) may say when to come back, as 429 does.
                    last = f"HTTP {status}: {text[:200]}"
                    wait = self._server_wait(url, status, attempt)
                else:
                    return status, text
            if attempt < self.max_attempts:
                self.sleep(wait)
        raise DestinationError(
            f"destination {self.destination.name!r}: {url} failed after {self.max_attempts} "
            f"attempts, last: {last}"
        )

    def _generations(self, run: SyncRun) -> dict[int, str]:
        """row_id -> "<attrs_hash>:<times delivered before>" of the rows to send."""
        rows = run.con.execute(
            f"""select pending.row_id, any_value(pending.attrs_hash), count(results.status)
            from activation_pending as pending
            left join {SCHEMA}.sync_row_results as results
                on results.destination = ? and results.status = 'delivered'
                and results.contact_id = pending.contact_id
                and results.segment_key = pending.segment_key
                and results.identifier = pending.identifier
            where pending.reject_reason is null
            group by pending.row_id""",
            [self.destination.name],
        ).fetchall()
        return {row_id: f"{attrs_hash}:{count}" for row_id, attrs_hash, count in rows}

    def _key(
        self, list_name: str, action: str, rows: list[dict[str, Any]], generations: dict[int, str]
    ) -> str:
        """The idempotency key of a call that sends these rows (see the module docstring)."""
        return idempotency_key(
            self.destination.name,
            list_name,
            action,
            [f"{row['identifier']}:{generations[row['row_id']]}" for row in rows],
        )

    @staticmethod
    def _kept_exits(run: SyncRun) -> set[int]:
        """Exits whose address stays on the list through another contact (two contacts sharing
        an email): acknowledged without a remove call, which would take the other one off."""
        rows = run.con.execute(
            """select pending.row_id from activation_pending as pending
            where pending.action = 'exit' and pending.reject_reason is null and exists (
                select 1 from activation_desired as desired
                where desired.segment_key = pending.segment_key
                    and desired.identifier = pending.identifier
                    and desired.contact_id <> pending.contact_id
                    and desired.is_valid
            )"""
        ).fetchall()
        return {row[0] for row in rows}

    def deliver(self, run: SyncRun) -> None:
        generations = self._generations(run)
        kept = self._kept_exits(run)
        for number, (action, segment_key, first, last) in enumerate(
            batches(run.con, self.destination.batch_size), start=1
        ):
            rows = fetch_rows(run.con, first, last)
            # One member per address: contacts sharing an email are one member of the list.
            sent: dict[str, dict[str, Any]] = {}
            for row in rows:
                if row["row_id"] not in kept:
                    sent.setdefault(row["identifier"], row)
            if not sent:
                run.ack(first, last, {}, batch_number=number)
                continue
            send_rows = list(sent.values())
            fields = {
                "segment_key": segment_key,
                "segment": rows[0]["segment"],
                "segment_family": rows[0]["segment_family"],
            }
            list_name = self.list_name.format(**fields)
            path = self.remove_path if action == "exit" else self.add_path
            url = self.base_url + path.format(list=urllib.request.quote(list_name, safe=""))
            key = self._key(list_name, action, rows, generations)

            refused: dict[str, str] = {}
            # What is left to send, in order: the batch, or the parts an answer made of it.
            queue: list[tuple[list[dict[str, Any]], str]] = [(send_rows, key)]
            while queue:
                send_rows, key = queue.pop(0)
                payload = {"list": list_name, "members": self._members(action, send_rows)}
                status, text = self.send(url, payload, key)
                if action == "exit" and status == 404:
                    # Not found on removal: the member (or the list) is already gone, which is
                    # what the exit asks for; recorded as delivered, not resent every run.
                    continue
                by_row = self._row_rejections(send_rows, text)
                if status < 300:
                    refused.update(
                        (row["identifier"], by_row[row["row_id"]])
                        for row in send_rows
                        if row["row_id"] in by_row
                    )
                    continue
                if status == 413 and len(send_rows) > 1:
                    # Payload Too Large: the API takes smaller batches; both halves are sent
                    # (each with its own key), halved again until the API takes them.
                    half = len(send_rows) // 2
                    parts = (send_rows[:half], send_rows[half:])
                    queue[:0] = [
                        (part, self._key(list_name, action, part, generations)) for part in parts
                    ]
                    continue
                if status in (400, 422) and 0 < len(by_row) < len(send_rows):
                    # The API refused the batch for the rows its answer names: those are
                    # rejected, the others are sent again without them (a new batch, new key).
                    refused.update(
                        (row["identifier"], f"HTTP {status}: {by_row[row['row_id']]}")
                        for row in send_rows
                        if row["row_id"] in by_row
                    )
                    rest = [row for row in send_rows if row["row_id"] not in by_row]
                    queue.insert(0, (rest, self._key(list_name, action, rest, generations)))
                    continue
                error = f"HTTP {status}: {text[:300]}"
                refused.update((row["identifier"], error) for row in send_rows)
            rejected = {
                row["row_id"]: refused[row["identifier"]]
                for row in rows
                if row["row_id"] not in kept and row["identifier"] in refused
            }
            run.ack(first, last, rejected, batch_number=number, idempotency_key=key)

    @staticmethod
    def _members(action: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if action == "exit":
            return [{"email": row["identifier"]} for row in rows]
        return [
            {
                "email": row["identifier"],
                "first_name": row["first_name"],
                "last_name": row["last_name"],
                "external_id": row["contact_id"],
            }
            for row in rows
        ]

    @staticmethod
    def _row_rejections(rows: list[dict[str, Any]], text: str) -> dict[int, str]:
        """Rows an answer refused (a 2xx, or a 400/422 that names the rows it refused the batch
        for: those are rejected and the rest sent again). `email` or `email_address` names a row
        as `index` (in the batch sent) does. Understood shapes: `{"results": [{"email" | "index",
        "status", "error"}]}` (refused: a status such as rejected, error, failed or invalid, or a
        non-empty `error`; any other status, e.g. ok, added, updated, removed, is applied) and
        `{"errors": [{"email" | "index", "error" | "message"}]}` (every entry refused)."""
        try:
            answer = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError:
            return {}
        if not isinstance(answer, dict):
            return {}
        by_email = {row["identifier"]: row["row_id"] for row in rows}
        rejected: dict[int, str] = {}
        for field_name, all_refused in (("results", False), ("errors", True)):
            entries = answer.get(field_name)
            if not isinstance(entries, list):
                continue
            for entry in entries:
                if not isinstance(entry, dict):
                    continue
                index = entry.get("index")
                if isinstance(index, int) and 0 <= index < len(rows):
                    row_id = rows[index]["row_id"]
                else:
                    email = entry.get("email", entry.get("email_address", ""))
                    row_id = by_email.get(str(email).strip().lower())
                status = str(entry.get("status", "ok")).strip().lower()
                refused = (
                    all_refused
                    or status in REFUSED_STATUSES
                    or bool(entry.get("error"))
                    or entry.get("success") is False
                    or entry.get("ok") is False
                )
                if row_id is None or not refused:
                    continue
                rejected[row_id] = str(
                    entry.get("error") or entry.get("message") or entry.get("status") or "refused"
                )
        return rejected
