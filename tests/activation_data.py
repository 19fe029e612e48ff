"""Synthetic `segment_membership` tables for the activation tests, with the `activation_members`
mart that activation reads, and the expected state of a destination, all computed here in plain
Python from the rules of docs/operator.md (independently of the SQL of dbt and activation/: the
dbt unit tests and tests/test_activation_end_to_end.py hold the mart itself to those rules)."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml

LIFECYCLE = ("new", "active", "loyal", "at_risk", "lapsed")
FOCUS = ("first_time_buyer_recent", "one_time_buyer_lapsing", "repeat_buyer_lapsing")


@dataclass(frozen=True)
class Contact:
    contact_id: str
    email: str | None
    first_name: str
    last_name: str
    email_consent: bool
    unsubscribed: bool
    lifecycle: str
    focus: str | None

    @property
    def reachable(self) -> bool:
        return bool(self.email) and self.email_consent and not self.unsubscribed

    def memberships(self) -> list[tuple[str, str, str]]:
        """(family, segment, segment_key)"""
        rows = [("lifecycle", self.lifecycle, f"lifecycle:{self.lifecycle}")]
        if self.focus:
            rows.append(("focus", self.focus, f"focus:{self.focus}"))
        return rows


def make_contacts(count: int, seed: int = 1, invalid_every: int = 0) -> list[Contact]:
    rng = random.Random(seed)
    contacts = []
    for number in range(1, count + 1):
        email = f"user{number}@shop{number % 7}.example.com"
        if invalid_every and number % invalid_every == 0:
            email = f"user{number}-at-nowhere"  # no @: fails the email check
        contacts.append(
            Contact(
                contact_id=f"c{number:06d}",
                email=None if number % 53 == 0 else email,
                first_name=f"First{number}",
                last_name=rng.choice(("Smith", "O'Brien", "Müller", "Dupont, Jr.")),
                email_consent=rng.random() > 0.15,
                unsubscribed=rng.random() < 0.05,
                lifecycle=rng.choice(LIFECYCLE),
                focus=rng.choice((*FOCUS, None, None)),
            )
        )
    return contacts


def change_contacts(contacts: list[Contact], seed: int, fraction: float = 0.1) -> list[Contact]:
    """Move some contacts to another lifecycle stage or focus segment, revoke consent of some,
    unsubscribe some, rename some; drop a few contacts and add a few new ones."""
    rng = random.Random(seed)
    changed = []
    for contact in contacts:
        roll = rng.random()
        if roll < fraction * 0.4:
            contact = replace(contact, lifecycle=rng.choice(LIFECYCLE))
        elif roll < fraction * 0.6:
            contact = replace(contact, focus=rng.choice((*FOCUS, None)))
        elif roll < fraction * 0.7:
            contact = replace(contact, email_consent=False)
        elif roll < fraction * 0.8:
            contact = replace(contact, unsubscribed=True)
        elif roll < fraction * 0.9:
            contact = replace(contact, first_name=contact.first_name + "-renamed")
        elif roll < fraction:
            continue  # the contact is gone
        changed.append(contact)
    start = len(contacts) + 1
    extra = make_contacts(start + int(len(contacts) * fraction * 0.2), seed=seed + 100)[start:]
    return changed + [replace(c, contact_id=f"n{seed}-{c.contact_id}") for c in extra]


def write_membership(db: Path, contacts: Iterable[Contact], as_of: str = "2025-06-30") -> None:
    """(Re)create main.segment_membership with the dbt model's columns, and main.activation_members
    (the mart activation reads) from it."""
    contacts = list(contacts)
    rows = [
        (
            contact.contact_id,
            as_of,
            family,
            segment,
            key,
            contact.email,
            contact.first_name,
            contact.last_name,
            contact.email_consent,
            False,
            contact.unsubscribed,
            contact.reachable,
        )
        for contact in contacts
        for family, segment, key in contact.memberships()
    ]
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in range(12)]
    names = [
        "contact_id",
        "as_of_date",
        "segment_family",
        "segment",
        "segment_key",
        "email",
        "first_name",
        "last_name",
        "email_consent",
        "sms_consent",
        "is_unsubscribed",
        "is_email_reachable",
    ]
    frame = pa.table({name: list(values) for name, values in zip(names, columns, strict=True)})
    with duckdb.connect(str(db)) as con:
        con.register("frame", frame)
        con.execute(
            """create or replace table main.segment_membership as
            select contact_id::varchar as contact_id, as_of_date::date as as_of_date,
                segment_family::varchar as segment_family, segment::varchar as segment,
                segment_key::varchar as segment_key, email::varchar as email,
                first_name::varchar as first_name, last_name::varchar as last_name,
                email_consent::boolean as email_consent, sms_consent::boolean as sms_consent,
                is_unsubscribed::boolean as is_unsubscribed,
                is_email_reachable::boolean as is_email_reachable
            from frame"""
        )
        con.unregister("frame")
        members = activation_members(contacts)
        con.register("members", members)
        con.execute(
            f"create or replace table main.activation_members as select {MEMBER_COLUMNS_SQL}"
            " from members"
        )


# The email check of docs/operator.md (Activation), applied to the trimmed, lower-cased address.
EMAIL_CHECK = re.compile(r"[a-z0-9._%+'-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}")
MEMBER_COLUMNS = {
    "contact_id": "varchar",
    "segment_family": "varchar",
    "segment": "varchar",
    "segment_key": "varchar",
    "email": "varchar",
    "email_sha256": "varchar",
    "valid_email": "varchar",
    "first_name": "varchar",
    "last_name": "varchar",
    "has_valid_email": "boolean",
    "has_email_consent": "boolean",
}
MEMBER_COLUMNS_SQL = ", ".join(f"{name}::{kind} as {name}" for name, kind in MEMBER_COLUMNS.items())


def address(email: str | None) -> str | None:
    """The address as sent: trimmed (spaces, as SQL trim) and lower-cased; None when blank."""
    value = (email or "").strip(" ").lower()
    return value or None


def activation_members(contacts: list[Contact]) -> pa.Table:
    """The rows of the dbt mart activation_members for these contacts: consent belongs to the
    address (one contact holding it without consent withdraws it for all), the email check, the
    SHA-256 of the address."""
    withdrawn = {address(c.email) for c in contacts if address(c.email) and not c.reachable}
    rows = []
    for contact in contacts:
        email = address(contact.email)
        valid = bool(email and EMAIL_CHECK.fullmatch(email))
        for family, segment, key in contact.memberships():
            rows.append(
                (
                    contact.contact_id,
                    family,
                    segment,
                    key,
                    email,
                    hashlib.sha256(email.encode()).hexdigest() if email else None,
                    email if valid else None,
                    contact.first_name,
                    contact.last_name,
                    valid,
                    bool(email and contact.reachable and email not in withdrawn),
                )
            )
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in MEMBER_COLUMNS]
    return pa.table(
        {name: list(values) for name, values in zip(MEMBER_COLUMNS, columns, strict=True)}
    )


def is_valid_email(email: str) -> bool:
    local, at, domain = email.partition("@")
    return bool(at and local and "." in domain)


def expected_members(
    contacts: Iterable[Contact], families: Iterable[str] = ("lifecycle", "focus")
) -> dict[str, dict[str, Contact]]:
    """{segment_key: {email: contact}} an email destination must hold (consent, valid email)."""
    families = set(families)
    out: dict[str, dict[str, Contact]] = {}
    for contact in contacts:
        if not contact.reachable or not is_valid_email(contact.email or ""):
            continue
        for family, _, key in contact.memberships():
            if family in families:
                out.setdefault(key, {})[contact.email.strip().lower()] = contact
    return out


def pairs(members: dict[str, dict[str, Contact]]) -> set[tuple[str, str]]:
    return {(key, email) for key, emails in members.items() for email in emails}


def sha256_email(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def write_config(path: Path, destinations: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"version": 1, "destinations": destinations}))
    return path


def ledger(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            table: con.execute(f"select * from activation.{table} order by all").fetchall()
            for table in ("sync_runs", "sync_row_results", "destination_state")
        }
