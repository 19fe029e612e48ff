"""Pandas reference of SPEC section 7 (automation scenarios), as docs/analytics-engineer.md
("Automation scenarios") reads it. No SQL, no DuckDB, no seed file: the scenarios are written out
from SPEC below, contact by contact, so the seed ``automation_steps`` is checked against SPEC too.
What SPEC leaves open is a parameter or named below (the code validity outside SPEC's "valid 24 h"
is the seed's choice, given here as ``VALIDITY_HOURS``).

Public API:
- ``contact_facts(data, as_of_date, ...)``: per existing contact, what the rules read from the
  other references (``is_email_reachable`` from SPEC 4, ``persona`` from SPEC 6, ``sms_consent``);
- ``compute_automation(data, facts, as_of_date, automation_as_of, ledger, **params)``: the entries,
  the due steps (queue), the held steps with their rule, the ledger rows the build adds
  (``issued``) and the whole ledger after it (``ledger``). ``ledger`` is every row issued by
  earlier builds (``issued_at`` included); a rerun of the same moment replaces that moment's rows.
  Pass the returned ``ledger`` on to the next build to simulate a sequence of runs.

``data`` is ``segments.load_raw_contract(path)`` updated with ``engagement.load_activity(path)``
(and ``web_channels``: ``load_web_channels(path)``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from . import engagement as eng
from .segments import _ids, _is_missing, _read_entity, _timestamps_utc

#: Hours a code is valid when SPEC gives none (the seed's choice): cart 7 days, inactive 14 days,
#: the prospect -10% emails 7 days; the young urban SMS -10% is valid 24 h (SPEC).
VALIDITY_HOURS = {"cart": 168, "inactive": 336, "prospect": 168, "prospect_sms": 24}

PRIORITY = {"cart": 1, "inactive": 2, "prospect": 3}


@dataclass(frozen=True)
class Step:
    step: int
    hours: int | None  # delay after the trigger, in hours ...
    days: int | None  # ... or in days after the trigger's UTC date, at 00:00
    channel: str
    template_key: str
    discount_pct: int | None = None
    valid_hours: int | None = None


def _prospect_journey(persona: str | None) -> list[Step]:
    """SPEC 7: the persona's steps and, for all, day 2 "questions?", day 6 live chat, day 12
    survey."""
    by_persona = {
        "young_urban": [
            Step(1, None, 1, "push", "prospect_young_urban_welcome"),
            Step(3, None, 3, "email", "prospect_young_urban_personalised"),
            Step(
                7,
                None,
                7,
                "sms",
                "prospect_young_urban_sms_10pct",
                10,
                VALIDITY_HOURS["prospect_sms"],
            ),
        ],
        "families": [
            Step(1, None, 1, "email", "prospect_families_welcome"),
            Step(4, None, 4, "email", "prospect_families_video"),
            Step(10, None, 10, "email", "prospect_families_10pct", 10, VALIDITY_HOURS["prospect"]),
        ],
        "seniors": [
            Step(1, None, 1, "email", "prospect_seniors_guide"),
            Step(5, None, 5, "email", "prospect_seniors_webinar"),
            Step(14, None, 14, "email", "prospect_seniors_10pct", 10, VALIDITY_HOURS["prospect"]),
        ],
    }
    common = [
        Step(2, None, 2, "email", "prospect_questions"),
        Step(6, None, 6, "email", "prospect_live_chat"),
        Step(12, None, 12, "email", "prospect_survey"),
    ]
    return by_persona.get(persona or "", []) + common


def _cart_steps(entry: Mapping[str, Any]) -> list[Step]:
    """SPEC 7: reminder after 24 h if the contact ordered in the last 6 months (180 days), else
    after 4 h; if not a regular customer, a 2nd email with 5% 48 h after the first."""
    days = entry["days_since_order_at_trigger"]
    first = 24 if days is not None and days <= 180 else 4
    steps = [Step(1, first, None, "email", "cart_reminder")]
    if not entry["is_regular_at_trigger"]:
        steps.append(
            Step(
                2,
                first + 48,
                None,
                "email",
                "cart_second_reminder_5pct",
                5,
                VALIDITY_HOURS["cart"],
            )
        )
    return steps


def _inactive_steps(entry: Mapping[str, Any]) -> list[Step]:
    """SPEC 7: 3 months (90 days) 5% if the last order was above 150 net, else news; 6 months
    (180) 10% with more than 3 orders, else 5%; 12 months (365) 15% for regular customers, else
    10%."""
    valid = VALIDITY_HOURS["inactive"]
    net = entry["last_order_net_at_trigger"]
    orders = entry["orders_count_at_trigger"]
    regular = entry["is_regular_at_trigger"]
    return [
        Step(1, None, 90, "email", "inactive_3m_code_5pct", 5, valid)
        if net is not None and net > Decimal(150)
        else Step(1, None, 90, "email", "inactive_3m_news"),
        Step(2, None, 180, "email", "inactive_6m_code_10pct", 10, valid)
        if orders > 3
        else Step(2, None, 180, "email", "inactive_6m_code_5pct", 5, valid),
        Step(3, None, 365, "email", "inactive_12m_ultimatum_15pct", 15, valid)
        if regular
        else Step(3, None, 365, "email", "inactive_12m_ultimatum_10pct", 10, valid),
    ]


def _naive(value: Any) -> dt.datetime | None:
    if _is_missing(value):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _due_at(trigger_at: dt.datetime, step: Step) -> dt.datetime:
    if step.days is not None:
        return _midnight(trigger_at.date() + dt.timedelta(days=step.days))
    return trigger_at + dt.timedelta(hours=step.hours or 0)


def load_web_channels(path: str | Path) -> pd.DataFrame:
    """contact_id, occurred_at, channel of the raw web events (for the app-user rule of push)."""
    frame = _read_entity(Path(path), "web_events")
    if frame is None or frame.empty:
        return pd.DataFrame({"contact_id": [], "occurred_at": [], "channel": []})
    out = pd.DataFrame(
        {
            "contact_id": _ids(frame["contact_id"]),
            "occurred_at": _timestamps_utc(frame["occurred_at"]),
            "channel": frame["channel"] if "channel" in frame.columns else None,
        }
    )
    return out


def contact_facts(
    data: Mapping[str, pd.DataFrame],
    as_of_date: Any,
    *,
    stores: Iterable[tuple[str, float, float]],
    persona_cities: Iterable[tuple[str, str | None]],
) -> pd.DataFrame:
    """contact_id, is_email_reachable (SPEC 4), persona (SPEC 6), sms_consent; the existing
    contacts on the date."""
    engagement = eng.compute_engagement(data, as_of_date)
    profile = eng.compute_profile(data, as_of_date, stores=stores, persona_cities=persona_cities)
    contacts = data["contacts"].drop_duplicates("contact_id", keep="last")
    sms = {
        row.contact_id: eng._boolean(getattr(row, "sms_consent", None)) is True
        for row in contacts.itertuples()
    }
    facts = engagement[["contact_id", "is_email_reachable"]].merge(
        profile[["contact_id", "persona"]], on="contact_id", how="left"
    )
    facts["sms_consent"] = [sms.get(c, False) for c in facts["contact_id"]]
    return facts


def compute_automation(
    data: Mapping[str, pd.DataFrame],
    facts: pd.DataFrame,
    as_of_date: Any,
    automation_as_of: Any = None,
    ledger: Iterable[Mapping[str, Any]] = (),
    *,
    automation_lateness_hours: int = 24,
    automation_max_messages_per_day: int = 1,
    automation_cart_min_days_since_order: int = 15,
    automation_app_channels: Iterable[str] = ("app",),
    active_days: int = 90,
) -> dict[str, list[dict[str, Any]]]:
    """One build as of ``automation_as_of`` (default: the end of the as-of date)."""
    day = pd.Timestamp(str(as_of_date)).date()
    now = (
        _naive(pd.Timestamp(str(automation_as_of)))
        if automation_as_of is not None
        else dt.datetime(day.year, day.month, day.day, 23, 59, 59, 999999)
    )
    assert now.date() == day, "automation_as_of must fall on the as-of date"
    window_start = now - dt.timedelta(hours=automation_lateness_hours)

    known = set(facts["contact_id"])
    fact = {row.contact_id: row for row in facts.itertuples()}

    orders = data["orders"]
    orders = orders[
        (orders["status"] == "completed")
        & orders["contact_id"].isin(known)
        & pd.Series([a is not None and a > 0 for a in orders["amount_net"]], index=orders.index)
    ]
    orders_by_contact: dict[str, list[tuple[dt.datetime, str, Decimal]]] = {}
    for row in orders.itertuples():
        at = _naive(row.ordered_at)
        if at <= now:
            orders_by_contact.setdefault(row.contact_id, []).append(
                (at, row.order_id, row.amount_net)
            )
    for history in orders_by_contact.values():
        history.sort(key=lambda item: (item[0], item[1]))

    carts_by_contact: dict[str, list[tuple[dt.datetime, str]]] = {}
    for row in data["carts"].itertuples():
        at = _naive(row.created_at)
        if row.contact_id in known and at is not None and at <= now:
            carts_by_contact.setdefault(row.contact_id, []).append((at, row.cart_id))

    app_channels = set(automation_app_channels)
    web = data.get("web_channels")
    app_users: set[str] = set()
    if web is not None and len(web):
        for row in web.itertuples():
            is_app = row.channel in app_channels and row.contact_id in known
            if is_app and _naive(row.occurred_at) <= now:
                app_users.add(row.contact_id)

    created = {
        row.contact_id: _naive(row.created_at)
        for row in data["contacts"].drop_duplicates("contact_id", keep="last").itertuples()
    }

    entries: list[dict[str, Any]] = []
    for contact in sorted(known):
        history = orders_by_contact.get(contact, [])
        carts = carts_by_contact.get(contact, [])

        # abandoned cart: the last order at least 15 days older than the cart, or none
        for cart_at, cart_id in carts:
            before = [o for o in history if o[0] < cart_at]
            after = [o for o in history if o[0] >= cart_at]
            days = (cart_at.date() - before[-1][0].date()).days if before else None
            if days is not None and days < automation_cart_min_days_since_order:
                continue
            entries.append(
                {
                    "contact_id": contact,
                    "scenario": "cart",
                    "trigger_id": cart_id,
                    "trigger_at": cart_at,
                    "entered_at": cart_at,
                    "exited_at": after[0][0] if after else None,
                    "exit_reason": "ordered" if after else None,
                    "orders_count_at_trigger": len(before),
                    "days_since_order_at_trigger": days,
                    "last_order_net_at_trigger": before[-1][2] if before else None,
                    "is_regular_at_trigger": len(before) >= 2
                    and days is not None
                    and days <= active_days,
                }
            )

        # inactive customer: each valid order that stayed the last one for 90 days
        for index, (ordered_at, order_id, net) in enumerate(history):
            entered = _midnight(ordered_at.date() + dt.timedelta(days=90))
            following = history[index + 1][0] if index + 1 < len(history) else None
            if entered > now or (following is not None and following <= entered):
                continue
            entries.append(
                {
                    "contact_id": contact,
                    "scenario": "inactive",
                    "trigger_id": order_id,
                    "trigger_at": ordered_at,
                    "entered_at": entered,
                    "exited_at": following,
                    "exit_reason": "ordered" if following is not None else None,
                    "orders_count_at_trigger": index + 1,
                    "days_since_order_at_trigger": 0,
                    "last_order_net_at_trigger": net,
                    # lifecycle on the day of the last order: active or loyal with 2+ orders
                    "is_regular_at_trigger": index + 1 >= 2,
                }
            )

        # prospect: registered, no cart and no order yet
        registered_at = created.get(contact)
        if registered_at is not None and registered_at <= now:
            first_order = history[0][0] if history else None
            first_cart = min((c[0] for c in carts), default=None)
            if (first_order is None or first_order > registered_at) and (
                first_cart is None or first_cart > registered_at
            ):
                exits = [(t, r) for t, r in ((first_order, "ordered"), (first_cart, "cart")) if t]
                exited = min(exits, key=lambda item: (item[0], item[1] != "ordered"), default=None)
                entries.append(
                    {
                        "contact_id": contact,
                        "scenario": "prospect",
                        "trigger_id": contact,
                        "trigger_at": registered_at,
                        "entered_at": registered_at,
                        "exited_at": exited[0] if exited else None,
                        "exit_reason": exited[1] if exited else None,
                        "orders_count_at_trigger": 0,
                        "days_since_order_at_trigger": None,
                        "last_order_net_at_trigger": None,
                        "is_regular_at_trigger": False,
                    }
                )

    # the steps of each entry, and which entries are current (not exited, a step still due)
    scheduled: list[dict[str, Any]] = []
    current: dict[str, list[tuple[int, str]]] = {}
    for entry in entries:
        scenario = entry["scenario"]
        if scenario == "cart":
            steps = _cart_steps(entry)
        elif scenario == "inactive":
            steps = _inactive_steps(entry)
        else:
            steps = _prospect_journey(getattr(fact[entry["contact_id"]], "persona", None))
        dues = [(step, _due_at(entry["trigger_at"], step)) for step in steps]
        if entry["exited_at"] is None and dues and max(d for _, d in dues) > window_start:
            current.setdefault(entry["contact_id"], []).append(
                (PRIORITY[scenario], f"{scenario} {entry['trigger_id']}")
            )
        for step, due in dues:
            if window_start < due <= now:
                scheduled.append({"entry": entry, "step": step, "due_at": due})

    # a rerun of the same moment decides it again: its earlier rows are replaced
    ledger = [row for row in ledger if row["issued_at"] != now]
    issued_before = [row for row in ledger if row["issued_at"] < now]
    issued_keys = {
        (r["contact_id"], r["scenario"], r["step"], r["trigger_id"]) for r in issued_before
    }
    later = {
        (r["contact_id"], r["scenario"], r["step"], r["trigger_id"]): r["issued_at"]
        for r in ledger
        if r["issued_at"] > now
    }
    already_today: dict[str, int] = {}
    for row in issued_before:
        if row["issued_at"].date() == now.date():
            already_today[row["contact_id"]] = already_today.get(row["contact_id"], 0) + 1

    queue: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    passing: list[dict[str, Any]] = []
    for item in scheduled:
        entry, step = item["entry"], item["step"]
        contact = entry["contact_id"]
        key = (contact, entry["scenario"], step.step, entry["trigger_id"])
        if key in issued_keys:
            continue
        channel = step.channel
        note = None
        if channel == "push" and contact not in app_users:
            channel, note = "email", "push: no known device or app user, sent by email"
        row = {
            "contact_id": contact,
            "scenario": entry["scenario"],
            "step": step.step,
            "trigger_id": entry["trigger_id"],
            "due_at": item["due_at"],
            "channel": channel,
            "planned_channel": step.channel,
            "channel_note": note,
            "template_key": step.template_key,
            "discount_pct": step.discount_pct,
            "valid_until": item["due_at"] + dt.timedelta(hours=step.valid_hours)
            if step.discount_pct is not None and step.valid_hours is not None
            else None,
            "priority": PRIORITY[entry["scenario"]],
        }
        f = fact[contact]
        rule = None
        if entry["exited_at"] is not None:
            rule = f"exited_{entry['exit_reason']}"
        elif channel == "email" and not f.is_email_reachable:
            rule = "consent_email"
        elif channel == "sms" and not f.sms_consent:
            rule = "consent_sms"
        elif any(p < row["priority"] for p, _ in current.get(contact, [])):
            rule = "priority"
        if rule is not None:
            held.append({**row, "held_rule": rule})
        else:
            passing.append(row)

    # the daily cap, by priority, then due time, scenario, step, trigger
    passing.sort(
        key=lambda r: (
            r["contact_id"],
            r["priority"],
            r["due_at"],
            r["scenario"],
            r["step"],
            r["trigger_id"],
        )
    )
    count: dict[str, int] = {}
    for row in passing:
        contact = row["contact_id"]
        count[contact] = count.get(contact, already_today.get(contact, 0)) + 1
        key = (contact, row["scenario"], row["step"], row["trigger_id"])
        if key in later:
            held.append({**row, "held_rule": "issued_later"})
        elif count[contact] <= automation_max_messages_per_day:
            queue.append({**row, "issued_at": now})
        else:
            held.append({**row, "held_rule": "daily_cap"})

    # a key issued later stays as it is: the ledger gains only keys it does not have
    all_keys = {(r["contact_id"], r["scenario"], r["step"], r["trigger_id"]) for r in ledger}
    new_rows = [
        r
        for r in queue
        if (r["contact_id"], r["scenario"], r["step"], r["trigger_id"]) not in all_keys
    ]
    return {
        "entries": entries,
        "queue": queue,
        "held": held,
        "issued": new_rows,
        "ledger": ledger + new_rows,
    }
