"""Issued automation steps to the tools that send them (activation/automation.py says which).

`automation_events`: one event per step to an ESP's events API,

    POST {base_url}{events_path}   {"event": "automation_step", "idempotency_key", "contact_id",
                                    "email", "first_name", "last_name", "scenario", "step",
                                    "trigger_id", "channel", "template_key", "discount_pct",
                                    "valid_until", "due_at", "issued_at"}

with `Idempotency-Key: sha256("contact|scenario|step|trigger")[:32]`: the same for every retry
and rerun of the step, so an API that honours keys applies a step once. It is the http
destination's client (the same options for the URL, secret, time-outs, retries with backoff,
Retry-After and retry_after_max_s; 401/403 stop the sync) and the same outbox: each event is
committed to `activation.http_requests` (its body in `payload`) before it is sent, and leaves it
with its acknowledgement; the next sync first sends again, same body and key, what a run left
there. A 2xx delivers the step; another 4xx rejects it (recorded with the answer; the next sync
tries it again while it is not older than max_age_hours).

`automation_lists`: for ESPs that import lists (ActiveCampaign's flow: a CSV import whose tags
start the automation), one CSV per run and template in `path` (default
target/activation/<name>): `<YYYYMMDDTHHMMSS>__<template_key>.csv` (the run's moment, UTC) with
email, first_name, last_name, discount_pct, valid_until, tags (comma-separated:
`automation`, the scenario, `<scenario>-step-<step>`, the template and `options.tags`). Only the
steps this run delivers are in it (earlier runs' files are left for the importer); contacts
sharing an address are one line per template (the first step due). The files are written under
temporary names and renamed once all are written, then the steps are acknowledged.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from decimal import Decimal
from typing import Any

from activation.automation import STEP_COLUMNS, fetch_steps, step_key
from activation.config import Destination
from activation.destinations.http import HttpAdapter
from activation.ledger import REQUEST_ROW_COLUMNS, OutboxRequest, SyncRun, load_outbox
from segment_warehouse.files import replaced_together, sql_literal

log = logging.getLogger(__name__)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def event_payload(row: dict[str, Any], key: str) -> dict[str, Any]:
    """The body of a step's event."""
    fields = ("contact_id", "email", "first_name", "last_name", *STEP_COLUMNS)
    return {
        "event": "automation_step",
        "idempotency_key": key,
        **{name: _json_value(row[name]) for name in fields},
    }


class AutomationEventsAdapter(HttpAdapter):
    def __init__(self, destination: Destination, **kwargs: Any) -> None:
        super().__init__(destination, **kwargs)
        self.events_path = str(destination.options.get("events_path", "/events"))
        self.url = self.base_url + self.events_path
        self.target = f"automation_events:{self.url}"

    def _refused(self, request: OutboxRequest, status: int, text: str) -> dict[str, str]:
        if 200 <= status < 300:
            return {}
        return {row["identifier"]: f"HTTP {status}: {text[:300]}" for row in request.rows}

    def replay(self, run: SyncRun) -> int:
        """Before the diff: every event an earlier run left in the outbox is sent again, same
        body and key (an API that honours keys applies it once), and settled from its answer."""
        from activation.destinations import DestinationError

        requests = load_outbox(run.con, self.destination.name, self.target)
        if not requests:
            return 0
        log.info(
            "%s: sending again %d events an earlier run left unacknowledged",
            self.destination.name,
            len(requests),
        )
        try:
            for request in requests:
                if request.answer is not None:
                    run.settle_request(request, {})
                    continue
                payload = json.loads(request.payload or "{}")
                status, text = self.send(request.url, payload, request.key, maybe_applied=True)
                run.settle_request(request, self._refused(request, status, text))
        except DestinationError as error:
            raise DestinationError(
                f"destination {self.destination.name!r}: sending again the {len(requests)} "
                "events an earlier run left unacknowledged failed, so nothing new was sent; they "
                f"stay in the outbox (activation.http_requests) and the next sync sends them "
                f"first: {error}"
            ) from error
        return len(requests)

    def deliver(self, run: SyncRun) -> None:
        for row in fetch_steps(run.con):
            key = step_key(row["contact_id"], row["scenario"], row["step"], row["trigger_id"])
            payload = event_payload(row, key)
            request = OutboxRequest(
                key=key,
                list_name=row["template_key"],
                url=self.url,
                action=row["action"],
                rows=[{column: row[column] for column in REQUEST_ROW_COLUMNS}],
                batch_number=row["row_id"],
                payload=json.dumps(payload, separators=(",", ":")),
            )
            # In the outbox before it is sent: a run killed from here on leaves it there, and
            # the next sync sends it again with the same key.
            run.record_requests([request])
            status, text = self.send(self.url, payload, key)
            refused = self._refused(request, status, text)
            run.answer_request(request, f"HTTP {status}", refused)
            row_id = row["row_id"]
            rejected = {row_id: refused[row["identifier"]]} if refused else {}
            run.ack(row_id, row_id, rejected, batch_number=row_id, idempotency_key=key)


def template_file_name(moment: dt.datetime, template_key: str) -> str:
    """20250630T100000__cart_reminder.csv"""
    safe = re.sub(r"[^a-z0-9_]+", "_", template_key.lower())
    return f"{moment:%Y%m%dT%H%M%S}__{safe}.csv"


class AutomationListsAdapter:
    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        self.out_dir = destination.path_option(f"target/activation/{destination.name}")
        self.tags = tuple(destination.options.get("tags", ()))
        self.target = f"automation_lists:{self.out_dir.resolve()}"

    def open(self) -> None:
        from activation.destinations import make_folder

        make_folder(self.destination, self.out_dir)

    def close(self) -> None:
        pass

    def deliver(self, run: SyncRun) -> None:
        con = run.con
        moment = dt.datetime.now(dt.UTC)
        templates = [
            row[0]
            for row in con.execute(
                """select distinct template_key from activation_pending
                where reject_reason is null order by 1"""
            ).fetchall()
        ]
        extra = "".join(f", {sql_literal(tag)}" for tag in self.tags)
        with replaced_together() as aside:
            for template_key in templates:
                final = self.out_dir / template_file_name(moment, template_key)
                query = f"""select email, first_name, last_name, discount_pct,
                    strftime(valid_until, '%Y-%m-%d %H:%M:%S') as valid_until,
                    concat_ws(',', 'automation', scenario, scenario || '-step-' || step,
                        template_key{extra}) as tags
                from activation_pending
                where reject_reason is null and template_key = {sql_literal(template_key)}
                qualify row_number() over (
                    partition by email order by due_at, contact_id, scenario, step
                ) = 1
                order by email"""
                con.execute(
                    f"copy ({query}) to {sql_literal(str(aside(final)))} (format csv, header true)"
                )
        run.ack_all()
