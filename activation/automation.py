"""The issued automation steps a destination delivers (types automation_events and
automation_lists), as the diff the ledger acknowledges.

The rules of what may be sent are the dbt mart `activation_automation_steps` (one row per step
of automation_issued, with the email check and the consent of each channel now). A destination
takes its channels (`options.channels`, default email) and scenarios (`options.scenarios`,
default all) from there and computes `activation_pending` on the sync's connection, in the
shape of a segment sync's diff so that the same ledger records it (`SyncRun.ack`):

- a step is one ledger row: segment_family `automation`, segment the scenario, segment_key
  `<scenario>:<step>:<trigger_id>`, identifier the contact_id, attrs_hash its idempotency key;
  once acknowledged it is in `destination_state`, so a rerun never sends it again, and it never
  exits (a step is a message sent, not a membership);
- a step goes only with the consent of its channel: email needs has_email_consent (the address,
  as activation_members) and an address that passes the email check (a step that fails it is
  rejected with the reason, never sent); sms needs has_sms_consent; push needs none (the
  automation models only send push to a contact with a known app or device);
- a step due more than `options.max_age_hours` (default 48) ago and never delivered is held
  back: a cart reminder days late does more harm than none. It is counted (`held_stale`) and
  logged, not sent and not recorded, so raising max_age_hours sends it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import duckdb

from activation.config import Destination
from activation.warehouse import INVALID_EMAIL, SCHEMA

STEPS = "main.activation_automation_steps"
FAMILY = "automation"
DEFAULT_MAX_AGE_HOURS = 48.0
DEFAULT_CHANNELS = ("email",)

# The columns of a step beyond the ledger's, in activation_pending.
STEP_COLUMNS = (
    "scenario",
    "step",
    "trigger_id",
    "channel",
    "template_key",
    "discount_pct",
    "valid_until",
    "due_at",
    "issued_at",
)


def step_key(contact_id: str, scenario: str, step: int, trigger_id: str) -> str:
    """The idempotency key of a step: the same for every retry and rerun, whatever the run."""
    text = f"{contact_id}|{scenario}|{step}|{trigger_id}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def max_age_hours(destination: Destination) -> float:
    return float(destination.options.get("max_age_hours", DEFAULT_MAX_AGE_HOURS))


def check_steps_table(con: duckdb.DuckDBPyConnection) -> str | None:
    """An error when the warehouse has no activation_automation_steps."""
    found = con.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'main' and table_name = 'activation_automation_steps'"
    ).fetchone()[0]
    if found:
        return None
    return (
        "no main.activation_automation_steps table (the dbt mart automation destinations read); "
        "run `dbt build` first"
    )


def undelivered_sql() -> str:
    """activation_automation_undelivered (parameters: destination, channels, scenarios): the
    steps of the destination's channels and scenarios it has not acknowledged, with the consent
    of their channel."""
    return f"""
create or replace temp table activation_automation_undelivered as
with steps as (
    select
        steps.*,
        steps.scenario || ':' || steps.step || ':' || steps.trigger_id as segment_key,
        case steps.channel
            when 'email' then steps.has_email_consent
            when 'sms' then steps.has_sms_consent
            else true
        end as has_consent
    from {STEPS} as steps
    where
        list_contains($channels, steps.channel)
        and (len($scenarios) = 0 or list_contains($scenarios, steps.scenario))
)

select steps.*
from steps
where not exists (
    select 1 from {SCHEMA}.destination_state as state
    where state.destination = $destination
        and state.contact_id = steps.contact_id
        and state.segment_key = steps.segment_key
)
"""


def pending_sql() -> str:
    """activation_pending (parameter: oldest): the undelivered steps with consent, due since
    `oldest`; an email step whose address fails the email check is refused."""
    return f"""
create or replace temp table activation_pending as
with changes as (
    select
        contact_id,
        '{FAMILY}' as segment_family,
        scenario as segment,
        segment_key,
        contact_id as identifier,
        case when email_ok then email end as email,
        first_name,
        last_name,
        sha256(contact_id || '|' || scenario || '|' || step || '|' || trigger_id)[1:32]
            as attrs_hash,
        'enter' as action,
        case when channel = 'email' and not email_ok then '{INVALID_EMAIL}' end as reject_reason,
        {", ".join(STEP_COLUMNS)}
    from activation_automation_undelivered
    where has_consent and due_at >= $oldest
)

select
    row_number() over (
        order by reject_reason is not null, due_at, contact_id, scenario, step, trigger_id
    ) as row_id,
    *
from changes
"""


def compute_pending(
    con: duckdb.DuckDBPyConnection, destination: Destination, now: dt.datetime | None = None
) -> dict[str, int]:
    """Fill activation_pending; return the counts of the steps never delivered: to send
    (`enter`), refused (the email check), held back as due too long ago (`held_stale`) and
    without the channel's consent (`no_consent`)."""
    now = now or dt.datetime.now(dt.UTC)
    oldest = now.astimezone(dt.UTC).replace(tzinfo=None) - dt.timedelta(
        hours=max_age_hours(destination)
    )
    con.execute(
        undelivered_sql(),
        {
            "destination": destination.name,
            "channels": list(destination.options.get("channels", DEFAULT_CHANNELS)),
            "scenarios": list(destination.options.get("scenarios", ())),
        },
    )
    con.execute(pending_sql(), {"oldest": oldest})
    sendable, refused, stale, no_consent = con.execute(
        """select
            (select count(*) from activation_pending where reject_reason is null),
            (select count(*) from activation_pending where reject_reason is not null),
            count(*) filter (where has_consent and due_at < $oldest),
            count(*) filter (where not has_consent)
        from activation_automation_undelivered""",
        {"oldest": oldest},
    ).fetchone()
    return {"enter": sendable, "refused": refused, "held_stale": stale, "no_consent": no_consent}


def fetch_steps(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The sendable rows of activation_pending, in row_id order."""
    cursor = con.execute(
        f"""select row_id, contact_id, segment_family, segment, segment_key, identifier, email,
            first_name, last_name, attrs_hash, action, {", ".join(STEP_COLUMNS)}
        from activation_pending where reject_reason is null order by row_id"""
    )
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
