"""The activation tables in the warehouse DuckDB file and the SQL that computes each diff.

Schema `activation`:

- `destination_state`: what each destination acknowledged, one row per (destination, contact,
  segment, identifier) with the payload it received. Only acknowledged rows enter it.
- `sync_runs`: one row per sync of a destination, with its counts.
- `sync_row_results`: one row per row a sync tried (or refused) to send, with its fate.

A sync computes two temporary tables on its connection: `activation_desired` (the membership
this destination should hold now: its segments, with consent) and `activation_pending` (the
diff against `destination_state`: entries, updates, exits and refused rows), numbered by
`row_id` so that the sendable rows come first, grouped by action and segment.
"""

from __future__ import annotations

from typing import Any

import duckdb

from activation.config import Destination

SCHEMA = "activation"

# A deliberately simple address check, applied to the trimmed, lower-cased email: one @, a local
# part of letters, digits and ._%+'-, a domain of dot-separated labels (letters, digits, -) and a
# top-level domain of at least two letters. Rows that fail it are `rejected`, never sent.
EMAIL_REGEX = r"^[a-z0-9._%+'-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$"
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
)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def _payload_expressions(destination: Destination) -> dict[str, str]:
    email = "lower(trim(membership.email))"
    identifier = {
        "email": email,
        "hashed_email": f"sha256({email})",
        "contact_id": "cast(membership.contact_id as varchar)",
    }[destination.identifier]
    if destination.identifier == "hashed_email":
        # The ad audience never holds a raw email, not even in the warehouse state.
        return {
            "identifier": identifier,
            "email": "cast(null as varchar)",
            "first_name": "cast(null as varchar)",
            "last_name": "cast(null as varchar)",
        }
    return {
        "identifier": identifier,
        "email": email,
        "first_name": "membership.first_name",
        "last_name": "membership.last_name",
    }


# Email consent belongs to the address: an address that any contact holding it may not be sent
# to (no consent, unsubscribed) is sent for no contact, so two contacts sharing an address, one
# unsubscribed, never get that address sent through the other.
BLOCKED_EMAILS = """select distinct lower(trim(email)) as email from main.segment_membership
    where coalesce(trim(email), '') <> '' and not coalesce(is_email_reachable, false)"""


def _reachable(alias: str) -> str:
    """SQL: the row of segment_membership `alias` may be sent to an email destination."""
    return (
        f"coalesce({alias}.is_email_reachable, false)"
        f" and coalesce(trim({alias}.email), '') <> ''"
        f" and lower(trim({alias}.email)) not in (select email from blocked_emails)"
    )


def desired_sql(destination: Destination) -> str:
    """The rows the destination should hold now (parameters: families, names, names)."""
    payload = _payload_expressions(destination)
    needs_email = destination.identifier in ("email", "hashed_email")
    consent = _reachable("membership") if destination.consent == "email" else "true"
    pattern = _sql_text(EMAIL_REGEX)
    valid = (
        f"coalesce(regexp_full_match(lower(trim(membership.email)), {pattern}), false)"
        if needs_email
        else "true"
    )
    return f"""
create or replace temp table activation_desired as
with blocked_emails as (
    {BLOCKED_EMAILS}
),

selected as (
    select * from main.segment_membership as membership
    where (
        list_contains(?, membership.segment_family)
        or list_contains(?, membership.segment)
        or list_contains(?, membership.segment_key)
    )
    and {consent}
),

payload as (
    select
        cast(membership.contact_id as varchar) as contact_id,
        membership.segment_family,
        membership.segment,
        membership.segment_key,
        {payload["identifier"]} as identifier,
        {payload["email"]} as email,
        {payload["first_name"]} as first_name,
        {payload["last_name"]} as last_name,
        {valid} as is_valid
    from selected as membership
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
        "select distinct cast(membership.contact_id as varchar) as contact_id"
        f" from main.segment_membership as membership where not ({_reachable('membership')})"
        if destination.consent == "email"
        else "select cast(null as varchar) as contact_id where false"
    )
    return f"""
create or replace temp table activation_pending as
with state as (
    select * from {SCHEMA}.destination_state where destination = $destination
),

blocked_emails as (
    {BLOCKED_EMAILS}
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


def unmatched_names(con: duckdb.DuckDBPyConnection, destination: Destination) -> list[str]:
    """`segments.names` that match no segment or segment_key of segment_membership today (a
    misspelling, or a segment that is empty today)."""
    names = list(destination.segment_names)
    if not names:
        return []
    found = {
        row[0]
        for row in con.execute(
            """select distinct name from (select unnest(?) as name)
            where name in (select segment from main.segment_membership)
                or name in (select segment_key from main.segment_membership)""",
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
            first_name, last_name, action
        from activation_pending where row_id between ? and ? order by row_id""",
        [first, last],
    )
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
