"""The activation tables in the warehouse DuckDB file and the SQL that computes each diff.

Schema `activation`:

- `destination_state`: what each destination acknowledged, one row per (destination, contact,
  segment, identifier) with the payload it received. Only acknowledged rows enter it.
- `sync_runs`: one row per sync of a destination, with its counts.
- `sync_row_results`: one row per row a sync tried (or refused) to send, with its fate.
- `http_requests`, `http_request_rows`: the outbox of http destinations. Each request (its key,
  URL, list, action and rows) is written and committed before it is sent, and deleted in the
  transaction that acknowledges its batch; what is left there was in flight when a run ended, and
  the next sync of the destination sends it again, same rows and key, before anything else.

A sync computes two temporary tables on its connection: `activation_desired` (the membership
this destination should hold now: its segments of the dbt mart `activation_members`, with the
consent it needs, keyed by its identifier) and `activation_pending` (the diff against
`destination_state`: entries, updates, exits and refused rows), numbered by `row_id` so that the
sendable rows come first, grouped by action and segment.
"""

from __future__ import annotations

from typing import Any

import duckdb

from activation.config import Destination

SCHEMA = "activation"

# The rules of what may be sent (the email check, consent per address, hashing) are the dbt mart
# `activation_members` (models/marts/activation/); a row that fails the email check where the
# address is the member is refused with this reason.
MEMBERS = "main.activation_members"
INVALID_EMAIL = "invalid email address (fails the activation email check)"

DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {SCHEMA}.destination_state (
        destination varchar not null,
        contact_id varchar not null,
        segment_family varchar not null,
        segment varchar not null,
        segment_key varchar not null,
        identifier varchar not null,
        email varchar,
        first_name varchar,
        last_name varchar,
        attrs_hash varchar not null,
        acknowledged_at timestamptz not null,
        sync_run_id varchar not null
    )""",
    f"""create table if not exists {SCHEMA}.sync_runs (
        sync_run_id varchar primary key,
        destination varchar not null,
        destination_type varchar not null,
        mode varchar not null,
        started_at timestamptz not null,
        finished_at timestamptz,
        status varchar not null,
        rows_sent bigint,
        rows_entered bigint,
        rows_updated bigint,
        rows_exited bigint,
        rows_rejected bigint,
        rows_failed bigint,
        error varchar,
        target varchar
    )""",
    f"alter table {SCHEMA}.sync_runs add column if not exists target varchar",
    f"""create table if not exists {SCHEMA}.sync_row_results (
        sync_run_id varchar not null,
        destination varchar not null,
        contact_id varchar not null,
        segment_family varchar,
        segment varchar,
        segment_key varchar not null,
        identifier varchar,
        action varchar not null,
        status varchar not null,
        error varchar,
        batch_number integer,
        idempotency_key varchar,
        recorded_at timestamptz not null
    )""",
    f"""create table if not exists {SCHEMA}.http_requests (
        request_id varchar not null,
        seq bigint not null,
        destination varchar not null,
        target varchar not null,
        sync_run_id varchar not null,
        batch_number integer,
        idempotency_key varchar not null,
        list_name varchar not null,
        url varchar not null,
        action varchar not null,
        created_at timestamptz not null,
        answered_at timestamptz,
        answer varchar,
        payload varchar
    )""",
    # The body of a request whose body is not made from its rows (an automation event).
    f"alter table {SCHEMA}.http_requests add column if not exists payload varchar",
    f"""create table if not exists {SCHEMA}.http_request_rows (
        request_id varchar not null,
        position integer not null,
        contact_id varchar not null,
        segment_family varchar,
        segment varchar,
        segment_key varchar not null,
        identifier varchar not null,
        email varchar,
        first_name varchar,
        last_name varchar,
        attrs_hash varchar not null,
        action varchar not null,
        refused varchar
    )""",
)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def _payload_expressions(destination: Destination) -> dict[str, str]:
    """Which columns of activation_members the destination receives, by its identifier."""
    if destination.identifier == "hashed_email":
        # The ad audience never holds a raw email, not even in the warehouse state.
        return {
            "identifier": "members.email_sha256",
            "email": "cast(null as varchar)",
            "first_name": "cast(null as varchar)",
            "last_name": "cast(null as varchar)",
            "is_valid": "members.has_valid_email",
            "email_failed_check": "false",
        }
    if destination.identifier == "contact_id":
        # The contact is the member: its row is sent, but an email that fails the check is sent
        # as NULL, never as the address (counted by failed_email_check).
        return {
            "identifier": "members.contact_id",
            "email": "members.valid_email",
            "first_name": "members.first_name",
            "last_name": "members.last_name",
            "is_valid": "true",
            "email_failed_check": "members.email is not null and not members.has_valid_email",
        }
    return {
        "identifier": "members.email",
        "email": "members.email",
        "first_name": "members.first_name",
        "last_name": "members.last_name",
        "is_valid": "members.has_valid_email",
        "email_failed_check": "false",
    }


def desired_sql(destination: Destination) -> str:
    """The rows the destination should hold now (parameters: families, names, names): its
    segments of activation_members, with the consent it needs, keyed by its identifier."""
    payload = _payload_expressions(destination)
    consent = "members.has_email_consent" if destination.consent == "email" else "true"
    return f"""
create or replace temp table activation_desired as
with payload as (
    select
        members.contact_id,
        members.segment_family,
        members.segment,
        members.segment_key,
        {payload["identifier"]} as identifier,
        {payload["email"]} as email,
        {payload["first_name"]} as first_name,
        {payload["last_name"]} as last_name,
        {payload["is_valid"]} as is_valid,
        {payload["email_failed_check"]} as email_failed_check
    from {MEMBERS} as members
    where (
        list_contains(?, members.segment_family)
        or list_contains(?, members.segment)
        or list_contains(?, members.segment_key)
    )
    and {consent}
)

select
    *,
    md5(concat_ws('|', identifier, coalesce(email, ''), coalesce(first_name, ''),
        coalesce(last_name, ''))) as attrs_hash
from payload
"""


def pending_sql(destination: Destination) -> str:
    """The diff (parameter: the destination name). Entries: desired, not acknowledged. Updates
    (mirror, upsert): acknowledged with other names. Exits: acknowledged, no longer desired, in
    mirror mode, or in any mode when the contact lost the consent the destination needs."""
    sends_updates = destination.mode in ("mirror", "upsert")
    exit_rule = (
        "true"
        if destination.mode == "mirror"
        else "state.contact_id in (select contact_id from lost_consent)"
    )
    lost_consent = (
        f"select distinct members.contact_id from {MEMBERS} as members"
        " where not members.has_email_consent"
        if destination.consent == "email"
        else "select cast(null as varchar) as contact_id where false"
    )
    return f"""
create or replace temp table activation_pending as
with state as (
    select * from {SCHEMA}.destination_state where destination = $destination
),

lost_consent as (
    {lost_consent}
),

entries as (
    select
        desired.contact_id, desired.segment_family, desired.segment, desired.segment_key,
        desired.identifier, desired.email, desired.first_name, desired.last_name,
        desired.attrs_hash,
        'enter' as action,
        case when not desired.is_valid then '{INVALID_EMAIL}' end as reject_reason
    from activation_desired as desired
    where not exists (
        select 1 from state
        where state.contact_id = desired.contact_id
            and state.segment_key = desired.segment_key
            and state.identifier = desired.identifier
    )
),

updates as (
    select
        desired.contact_id, desired.segment_family, desired.segment, desired.segment_key,
        desired.identifier, desired.email, desired.first_name, desired.last_name,
        desired.attrs_hash,
        'update' as action,
        cast(null as varchar) as reject_reason
    from activation_desired as desired
    inner join state
        on state.contact_id = desired.contact_id
        and state.segment_key = desired.segment_key
        and state.identifier = desired.identifier
    where {"true" if sends_updates else "false"} and state.attrs_hash <> desired.attrs_hash
),

exits as (
    select
        state.contact_id, state.segment_family, state.segment, state.segment_key,
        state.identifier, state.email, state.first_name, state.last_name,
        state.attrs_hash,
        'exit' as action,
        cast(null as varchar) as reject_reason
    from state
    where not exists (
        select 1 from activation_desired as desired
        where desired.contact_id = state.contact_id
            and desired.segment_key = state.segment_key
            and desired.identifier = state.identifier
    )
    and ({exit_rule})
),

changes as (
    select * from entries
    union all
    select * from updates
    union all
    select * from exits
)

select
    row_number() over (
        order by
            reject_reason is not null,
            case action when 'exit' then 0 when 'enter' then 1 else 2 end,
            segment_key,
            identifier,
            contact_id
    ) as row_id,
    *
from changes
"""


def compute_pending(con: duckdb.DuckDBPyConnection, destination: Destination) -> dict[str, int]:
    """Fill activation_desired and activation_pending; return counts by action and refusal."""
    names = list(destination.segment_names)
    con.execute(desired_sql(destination), [list(destination.families), names, names])
    con.execute(pending_sql(destination), {"destination": destination.name})
    rows = con.execute(
        "select action, reject_reason is not null, count(*) from activation_pending group by all"
    ).fetchall()
    counts = {"enter": 0, "update": 0, "exit": 0, "refused": 0}
    for action, refused, count in rows:
        counts["refused" if refused else action] += count
    return counts


def failed_email_check(con: duckdb.DuckDBPyConnection) -> int:
    """Rows of activation_desired (identifier contact_id) sent with email NULL because their
    address fails the email check."""
    return con.execute(
        "select count(*) from activation_desired where email_failed_check"
    ).fetchone()[0]


def unmatched_names(con: duckdb.DuckDBPyConnection, destination: Destination) -> list[str]:
    """`segments.names` that match no segment or segment_key of activation_members today (a
    misspelling, or a segment that is empty today)."""
    names = list(destination.segment_names)
    if not names:
        return []
    found = {
        row[0]
        for row in con.execute(
            f"""select distinct name from (select unnest(?) as name)
            where name in (select segment from {MEMBERS})
                or name in (select segment_key from {MEMBERS})""",
            [names],
        ).fetchall()
    }
    return [name for name in names if name not in found]


def forget_other_target(
    con: duckdb.DuckDBPyConnection, destination: Destination, target: str
) -> str | None:
    """When the destination's last sync went elsewhere (another table, server, folder or list
    names), its acknowledged state describes that place, not this one: forget it, so that this
    sync sends everything. Returns the previous target when it did."""
    row = con.execute(
        f"""select target from {SCHEMA}.sync_runs
        where destination = ? and target is not null order by started_at desc limit 1""",
        [destination.name],
    ).fetchone()
    if row is None or row[0] == target:
        return None
    con.execute(f"delete from {SCHEMA}.destination_state where destination = ?", [destination.name])
    return row[0]


def sendable_groups(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, int]]:
    """(action, segment_key, first row_id, last row_id) of the rows to send, in row_id order."""
    return con.execute(
        """select action, segment_key, min(row_id), max(row_id)
        from activation_pending where reject_reason is null
        group by action, segment_key order by min(row_id)"""
    ).fetchall()


def batches(con: duckdb.DuckDBPyConnection, batch_size: int) -> list[tuple[str, str, int, int]]:
    """Sendable row_id ranges of at most batch_size rows, one action and segment each."""
    out: list[tuple[str, str, int, int]] = []
    for action, segment_key, first, last in sendable_groups(con):
        for start in range(first, last + 1, batch_size):
            out.append((action, segment_key, start, min(start + batch_size - 1, last)))
    return out


def fetch_rows(con: duckdb.DuckDBPyConnection, first: int, last: int) -> list[dict[str, Any]]:
    cursor = con.execute(
        """select row_id, contact_id, segment_family, segment, segment_key, identifier, email,
            first_name, last_name, attrs_hash, action
        from activation_pending where row_id between ? and ? order by row_id""",
        [first, last],
    )
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
