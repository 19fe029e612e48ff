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
is wrong).

The idempotency key of a batch is derived from the destination, the list, the action and, per
row, the identifier, the payload's hash and how many times that (contact, segment, identifier)
was delivered before (from the ledger): a later, different change of the same rows (a contact
that leaves and re-enters a list, a name changed back) carries a new key, so an API that
remembers keys does not answer it with the old, replayed result without applying it. A 413 half
and the rest sent after a 400/422 get keys derived from the batch's.

Keys survive a rerun through an outbox in the ledger (`activation.http_requests`,
`http_request_rows`): each request, with its key and rows, is committed there before it is sent,
its answer recorded there, and it leaves in the transaction that acknowledges its batch. Retries
within a run carry the same key. The next sync of the destination starts with `replay`: every
request left there (the run was killed, or its attempts ran out) is sent again exactly, same
rows and key, before the diff is computed; one already answered is settled from its recorded
answer without being sent. So no row that may have reached the API is regrouped into a request
under another key. What can still be applied twice: under an API that honours keys, only the
members of a request whose answer was lost and that the API then answers 413 on every attempt
(its halves go under new keys); under an API that ignores keys, a request sent again after its
answer was lost (a retry, or the replay of a request in flight when the run ended).
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from activation.config import Destination
from activation.ledger import REQUEST_ROW_COLUMNS, OutboxRequest, SyncRun, load_outbox
from activation.warehouse import SCHEMA, batches, fetch_rows

log = logging.getLogger(__name__)

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

    def send(
        self, url: str, payload: dict[str, Any], key: str, maybe_applied: bool = False
    ) -> tuple[int, str]:
        """POST with retries; the final (status, body) of a 2xx or non-retryable 4xx.

        `maybe_applied`: the request may already have been applied (it is replayed from the
        outbox). So does an attempt without a readable answer (time-out, dropped connection,
        5xx). A 413 then is retried under the same key like a 5xx, because the halves it asks
        for go out under new keys and would apply again what the lost attempt applied; only
        when the attempts run out is the 413 returned (and the request halved)."""
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
                maybe_applied = True
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
                    maybe_applied = True
                elif status == 413 and maybe_applied and attempt < self.max_attempts:
                    last = f"HTTP 413 after an attempt that may have been applied: {text[:200]}"
                    wait = self._backoff(attempt)
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

    def _part(self, request: OutboxRequest, identifiers: list[str], part: str) -> OutboxRequest:
        """A request made of some members of `request` (a 413 half, the rest after a 400/422
        that named refused rows), under its own key, derived from the request's key."""
        keep = set(identifiers)
        return OutboxRequest(
            key=idempotency_key(
                self.destination.name,
                request.list_name,
                request.action,
                [f"{part} {request.key}", *identifiers],
            ),
            list_name=request.list_name,
            url=request.url,
            action=request.action,
            rows=[row for row in request.rows if row["identifier"] in keep],
            batch_number=request.batch_number,
        )

    @staticmethod
    def _member_rows(request: OutboxRequest) -> list[dict[str, Any]]:
        """One row per address (the first), in payload order: contacts sharing an email are one
        member of the list."""
        members: dict[str, dict[str, Any]] = {}
        for row in request.rows:
            if row.get("refused") is None:
                members.setdefault(row["identifier"], row)
        return list(members.values())

    def exchange(
        self,
        run: SyncRun,
        request: OutboxRequest,
        answered: Callable[[OutboxRequest, str, dict[str, str]], None],
    ) -> dict[str, str]:
        """Send a request already in the outbox, and the parts its answers make of it (each
        written to the outbox before it is sent, in place of the request answered without
        applying anything); `answered(request, answer, refused)` records each answer. Returns
        identifier -> error of the members refused."""
        refused: dict[str, str] = {}
        # A request from the outbox that was never answered may have been applied already.
        replayed = request if request.answer is None and request.from_outbox else None
        queue = [request]
        while queue:
            current = queue.pop(0)
            members = self._member_rows(current)
            payload = {"list": current.list_name, "members": self._members(current.action, members)}
            status, text = self.send(
                current.url, payload, current.key, maybe_applied=current is replayed
            )
            if current.action == "exit" and status == 404:
                # Not found on removal: the member (or the list) is already gone, which is what
                # the exit asks for; recorded as delivered, not resent every run.
                answered(current, f"HTTP {status}", {})
                continue
            indexed = [{"row_id": i, "identifier": m["identifier"]} for i, m in enumerate(members)]
            by_member = {
                members[index]["identifier"]: error
                for index, error in self._row_rejections(indexed, text).items()
            }
            if status < 300:
                answered(current, f"HTTP {status}", by_member)
                refused.update(by_member)
                continue
            identifiers = [member["identifier"] for member in members]
            if status == 413 and len(members) > 1:
                # Payload Too Large: the API takes smaller batches; both halves are sent
                # (each with its own key), halved again until the API takes them.
                half = len(identifiers) // 2
                parts = [
                    self._part(current, identifiers[:half], "first half of"),
                    self._part(current, identifiers[half:], "second half of"),
                ]
                run.record_requests(parts, replaces=current)
                queue[:0] = parts
                continue
            if status in (400, 422) and 0 < len(by_member) < len(members):
                # The API refused the batch for the rows its answer names: those are
                # rejected, the others are sent again without them (a new request, new key).
                refused.update(
                    (identifier, f"HTTP {status}: {error}")
                    for identifier, error in by_member.items()
                )
                rest = [identifier for identifier in identifiers if identifier not in by_member]
                part = self._part(current, rest, "rest of")
                run.record_requests([part], replaces=current)
                queue.insert(0, part)
                continue
            error = f"HTTP {status}: {text[:300]}"
            everything = dict.fromkeys(identifiers, error)
            answered(current, f"HTTP {status}", everything)
            refused.update(everything)
        return refused

    def replay(self, run: SyncRun) -> int:
        """Before the diff: send again, in order, every request an earlier run of this
        destination left in the outbox (killed, or stopped before the answer was read), with
        the rows and the key it went out with, and settle each from its answer (a request
        already answered is settled from the answer recorded, without sending it). Returns how
        many requests there were."""
        from activation.destinations import DestinationError

        requests = load_outbox(run.con, self.destination.name, self.target)
        if not requests:
            return 0
        rows = sum(len(request.rows) for request in requests)
        log.info(
            "%s: sending again %d requests (%d rows) an earlier run left unacknowledged",
            self.destination.name,
            len(requests),
            rows,
        )
        try:
            for request in requests:
                if request.answer is not None:
                    run.settle_request(request, {})
                else:
                    self.exchange(
                        run, request, lambda done, _, refused: run.settle_request(done, refused)
                    )
        except DestinationError as error:
            raise DestinationError(
                f"destination {self.destination.name!r}: sending again the {len(requests)} "
                f"requests ({rows} rows) an earlier run left unacknowledged failed, so nothing "
                "new was sent; they stay in the outbox (activation.http_requests) and the next "
                f"sync sends them first: {error}"
            ) from error
        return len(requests)

    def deliver(self, run: SyncRun) -> None:
        generations = self._generations(run)
        kept = self._kept_exits(run)
        for number, (action, segment_key, first, last) in enumerate(
            batches(run.con, self.destination.batch_size), start=1
        ):
            rows = fetch_rows(run.con, first, last)
            send_rows = [row for row in rows if row["row_id"] not in kept]
            if not send_rows:
                run.ack(first, last, {}, batch_number=number)
                continue
            fields = {
                "segment_key": segment_key,
                "segment": rows[0]["segment"],
                "segment_family": rows[0]["segment_family"],
            }
            list_name = self.list_name.format(**fields)
            path = self.remove_path if action == "exit" else self.add_path
            url = self.base_url + path.format(list=urllib.request.quote(list_name, safe=""))
            key = self._key(list_name, action, rows, generations)
            request = OutboxRequest(
                key=key,
                list_name=list_name,
                url=url,
                action=action,
                rows=[{column: row[column] for column in REQUEST_ROW_COLUMNS} for row in send_rows],
                batch_number=number,
            )
            # Written to the outbox before it is sent: a run killed from here on leaves it
            # there, and the next sync sends it again, same rows, same key.
            run.record_requests([request])
            refused = self.exchange(run, request, run.answer_request)
            rejected = {
                row["row_id"]: refused[row["identifier"]]
                for row in send_rows
                if row["identifier"] in refused
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
