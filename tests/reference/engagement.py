"""Pandas reference of SPEC sections 4 to 6 (engagement, nurturing score, demographic and
behavioural attributes), as docs/rules.md reads them. No SQL, no DuckDB, no seed files: the rule
tables (score weights, age bands, personas) are written out from SPEC below; the shop's own lists
(persona cities, store locations) are parameters.

Public API:
- ``load_activity(path)``: the event entities of the raw contract (email_events, web_events,
  carts, order_items, products), typed;
- ``compute_engagement(data, as_of_date, **params)``, ``compute_scores(...)``,
  ``compute_profile(...)``: one row per contact that exists on the date (the contacts of
  ``segments.compute_segments``), indexed by nothing, sorted by contact_id.

``data`` is ``segments.load_raw_contract(path)`` (contacts with every column, orders, refunds)
updated with ``load_activity(path)``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .segments import (
    _decimal,
    _ids,
    _is_missing,
    _read_entity,
    _timestamps_utc,
    compute_segments,
)

# --------------------------------------------------------------------------------------------
# Rule tables, written out from SPEC sections 4 to 6
# --------------------------------------------------------------------------------------------

ENGAGEMENT_LEVELS = ("unreachable", "not_emailed", "super_active", "moderate", "dormant")

#: SPEC section 5: points per interaction.
DEFAULT_WEIGHTS: dict[str, float] = {
    "page_view": 1,
    "product_view": 2,
    "add_to_cart": 5,
    "checkout_started": 8,
    "email_open": 1,
    "email_click": 3,
    "social_interaction": 2,
}

#: SPEC section 6: (label, youngest, oldest or None), inclusive.
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, None),
)

FUNNEL_STAGES = ("visited", "viewed_product", "added_to_cart", "started_checkout", "purchased")

EARTH_RADIUS_KM = 6371.0088

_ACTIVITY_ENTITIES = ("email_events", "web_events", "carts", "order_items", "products")
_ACTIVITY_COLUMNS = {
    "email_events": ["event_id", "contact_id", "campaign_id", "event_type", "occurred_at"],
    "web_events": [
        "event_id",
        "contact_id",
        "session_id",
        "event_type",
        "occurred_at",
        "product_id",
        "duration_seconds",
    ],
    "carts": ["cart_id", "contact_id", "created_at"],
    "order_items": ["order_id", "line_number", "product_id", "quantity", "unit_price_net"],
    "products": ["product_id", "category"],
}


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _text(series: pd.Series, lower: bool = False) -> pd.Series:
    values = []
    for value in series:
        if _is_missing(value):
            values.append(None)
            continue
        text = str(value).strip()
        values.append((text.lower() if lower else text) or None)
    return pd.Series(values, index=series.index, dtype=object)


def load_activity(path: str | Path) -> dict[str, pd.DataFrame]:
    """The event entities of a raw-contract folder (missing ones are empty), typed."""
    folder = Path(path)
    out: dict[str, pd.DataFrame] = {}
    for entity in _ACTIVITY_ENTITIES:
        frame = _read_entity(folder, entity)
        frame = pd.DataFrame() if frame is None else frame.copy()
        for column in _ACTIVITY_COLUMNS[entity]:
            if column not in frame.columns:
                frame[column] = None
        frame = frame[_ACTIVITY_COLUMNS[entity]].reset_index(drop=True)
        for column in ("event_id", "contact_id", "campaign_id", "session_id", "product_id"):
            if column in frame.columns:
                frame[column] = _ids(frame[column])
        for column in ("cart_id", "order_id"):
            if column in frame.columns:
                frame[column] = _ids(frame[column])
        for column in ("occurred_at", "created_at"):
            if column in frame.columns:
                frame[column] = _timestamps_utc(frame[column])
        if "event_type" in frame.columns:
            frame["event_type"] = _text(frame["event_type"], lower=True)
        if "category" in frame.columns:
            frame["category"] = _text(frame["category"])
        if "duration_seconds" in frame.columns:
            frame["duration_seconds"] = pd.to_numeric(frame["duration_seconds"]).astype("Int64")
        if entity == "order_items":
            frame["quantity"] = pd.to_numeric(frame["quantity"]).astype("Int64")
            frame["unit_price_net"] = [_decimal(v) for v in frame["unit_price_net"]]
        out[entity] = frame
    return out


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _as_of(value: Any) -> dt.date:
    return pd.Timestamp(str(value)).date()


def _day(value: Any) -> dt.date | None:
    """The UTC calendar day of a timestamp (naive = UTC), or of a date."""
    if _is_missing(value):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return stamp.date()


def _age_in_days(timestamps: pd.Series, as_of: dt.date) -> pd.Series:
    """Whole UTC days from each timestamp's day to the as-of date (negative = after it)."""
    days = timestamps.dt.tz_convert("UTC").dt.floor("D").dt.tz_localize(None)
    return (pd.Timestamp(as_of) - days).dt.days


def _boolean(value: Any) -> bool | None:
    if _is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "t", "yes", "y", "1"):
        return True
    if text in ("false", "f", "no", "n", "0"):
        return False
    return None


def _date(value: Any) -> dt.date | None:
    if _is_missing(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(str(value).strip()).date()


def _float(value: Any) -> float | None:
    if _is_missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def existing_contacts(data: Mapping[str, pd.DataFrame], as_of: dt.date) -> pd.DataFrame:
    """The contacts that exist on the date (those of ``compute_segments``), with every contact
    column and the segment reference's order metrics."""
    segments = compute_segments(dict(data), as_of)
    contacts = data["contacts"].drop_duplicates("contact_id", keep="last")
    return segments[["contact_id", "orders_count", "days_since_last_order"]].merge(
        contacts, how="left", on="contact_id"
    )


# --------------------------------------------------------------------------------------------
# SPEC section 4: email engagement
# --------------------------------------------------------------------------------------------


def compute_engagement(
    data: Mapping[str, pd.DataFrame],
    as_of_date: Any,
    *,
    engagement_window_days: int = 90,
    super_active_open_rate: float = 0.8,
    super_active_min_sends: int = 3,
) -> pd.DataFrame:
    as_of = _as_of(as_of_date)
    contacts = existing_contacts(data, as_of)
    events = data["email_events"].copy()
    events["age"] = _age_in_days(events["occurred_at"], as_of)
    events = events[events["age"] >= 0]  # later events do not exist yet
    kind = events["event_type"]

    def last(kinds: list[str]) -> pd.Series:
        return events[kind.isin(kinds)].groupby("contact_id")["occurred_at"].max()

    unsubscribe_events = set(events.loc[kind.isin(["unsubscribe", "complaint"]), "contact_id"])
    last_bounce = last(["bounce"])
    last_reached = last(["delivered", "open", "click"]).reindex(last_bounce.index)
    hard_bounced = set(last_bounce.index[~(last_reached >= last_bounce).to_numpy()])
    last_opened = last(["open", "click"])

    # sends of the window: one per campaign, or per event without a campaign
    window = events[events["age"] <= engagement_window_days]
    sent = window[window["event_type"] == "sent"]
    sent_keys = pd.DataFrame(
        {
            "contact_id": sent["contact_id"],
            "key": [
                ("campaign", campaign) if campaign is not None else ("alone", event)
                for campaign, event in zip(sent["campaign_id"], sent["event_id"], strict=True)
            ],
        }
    ).drop_duplicates()
    reactions = window[window["event_type"].isin(["open", "click"])]
    opened_keys = pd.DataFrame(
        {
            "contact_id": reactions["contact_id"],
            "key": [("campaign", campaign) for campaign in reactions["campaign_id"]],
        }
    )[reactions["campaign_id"].notna().to_numpy()].drop_duplicates()
    sends = sent_keys.groupby("contact_id").size()
    opened = sent_keys.merge(opened_keys, on=["contact_id", "key"]).groupby("contact_id").size()
    opens = reactions[reactions["event_type"] == "open"].groupby("contact_id").size()
    clicks = reactions[reactions["event_type"] == "click"].groupby("contact_id").size()

    rows = []
    for contact in contacts.itertuples(index=False):
        contact_id = contact.contact_id
        unsubscribed_day = _day(contact.unsubscribed_at)
        is_unsubscribed = (
            unsubscribed_day is not None and unsubscribed_day <= as_of
        ) or contact_id in unsubscribe_events
        is_hard_bounced = contact_id in hard_bounced
        n_sends = int(sends.get(contact_id, 0))
        n_opened = int(opened.get(contact_id, 0))
        n_opens = int(opens.get(contact_id, 0))
        n_clicks = int(clicks.get(contact_id, 0))
        reachable = (
            not _is_missing(contact.email)
            and _boolean(contact.email_consent) is True
            and not is_unsubscribed
            and not is_hard_bounced
        )
        if not reachable:
            level = "unreachable"
        elif not n_sends:
            level = "not_emailed"
        elif n_sends >= super_active_min_sends and (
            Decimal(n_opened) >= Decimal(str(super_active_open_rate)) * n_sends
        ):
            level = "super_active"
        elif n_opened or n_opens or n_clicks:
            level = "moderate"
        else:
            level = "dormant"
        rows.append(
            {
                "contact_id": contact_id,
                "engagement_level": level,
                "is_email_reachable": reachable,
                "is_unsubscribed": is_unsubscribed,
                "is_hard_bounced": is_hard_bounced,
                "sends_count": n_sends,
                "opened_sends_count": n_opened,
                "opens_count": n_opens,
                "clicks_count": n_clicks,
                "open_rate": n_opened / n_sends if n_sends else None,
                "last_opened_at": last_opened.get(contact_id),
            }
        )
    return pd.DataFrame(rows).sort_values("contact_id", kind="mergesort").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# SPEC section 5: nurturing score
# --------------------------------------------------------------------------------------------


def compute_scores(
    data: Mapping[str, pd.DataFrame],
    as_of_date: Any,
    *,
    weights: Mapping[str, float] | None = None,
    score_window_days: int = 30,
    score_half_life_days: int = 14,
    score_cap: float = 100,
    score_hot_min: float = 40,
    score_warm_min: float = 15,
) -> pd.DataFrame:
    as_of = _as_of(as_of_date)
    weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
    contacts = existing_contacts(data, as_of)

    web = data["web_events"]
    web = pd.DataFrame(
        {
            "contact_id": web["contact_id"],
            "interaction": web["event_type"],
            "occurred_at": web["occurred_at"],
        }
    )
    email = data["email_events"]
    email = email[email["event_type"].isin(["open", "click"])]
    email = pd.DataFrame(
        {
            "contact_id": email["contact_id"],
            "interaction": "email_" + email["event_type"],
            "occurred_at": email["occurred_at"],
        }
    )
    interactions = pd.concat([web, email], ignore_index=True)
    interactions = interactions[interactions["contact_id"].notna()]
    interactions["age"] = _age_in_days(interactions["occurred_at"], as_of)
    interactions = interactions[
        (interactions["age"] >= 0)
        & (interactions["age"] <= score_window_days)
        & interactions["interaction"].isin(list(weights))
    ].copy()
    interactions["points"] = [
        weights[kind] * 0.5 ** (age / score_half_life_days)
        for kind, age in zip(interactions["interaction"], interactions["age"], strict=True)
    ]
    per_type = interactions.pivot_table(
        index="contact_id", columns="interaction", values="points", aggfunc="sum", fill_value=0.0
    )
    counts = interactions.groupby("contact_id").size()

    rows = []
    for contact_id in contacts["contact_id"]:
        points = per_type.loc[contact_id] if contact_id in per_type.index else None
        total = float(points.sum()) if points is not None else 0.0
        score = round(min(total, score_cap), 2)
        band = "hot" if score >= score_hot_min else "warm" if score >= score_warm_min else "cold"
        row: dict[str, Any] = {
            "contact_id": contact_id,
            "nurturing_score": score,
            "score_band": band,
            "scored_interactions_count": int(counts.get(contact_id, 0)),
            "uncapped_points": round(total, 2),
        }
        for kind in DEFAULT_WEIGHTS:
            value = float(points[kind]) if points is not None and kind in points.index else 0.0
            row[f"{kind}_points"] = round(value, 2)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("contact_id", kind="mergesort").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# SPEC section 6: demographic and behavioural attributes
# --------------------------------------------------------------------------------------------


def age_on(birth: dt.date | None, as_of: dt.date) -> int | None:
    """Whole years on the date; None without a birth date, after the date or above 120."""
    if birth is None or birth > as_of:
        return None
    years = as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))
    return years if years <= 120 else None


def age_band(age: int | None) -> str:
    if age is not None:
        for label, low, high in AGE_BANDS:
            if age >= low and (high is None or age <= high):
                return label
    return "unknown"


def persona(age: int | None, in_city: bool) -> str | None:
    """SPEC's ranges read inclusively, in SPEC's order: young urban first, then families."""
    if age is None:
        return None
    if 18 <= age <= 35 and in_city:
        return "young_urban"
    if 35 <= age <= 50:
        return "families"
    if age >= 50:
        return "seniors"
    return None


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def compute_profile(
    data: Mapping[str, pd.DataFrame],
    as_of_date: Any,
    *,
    stores: Iterable[tuple[str, float, float]],
    persona_cities: Iterable[tuple[str, str | None]],
    store_radius_km: float = 25,
    behaviour_window_days: int = 30,
    funnel_window_days: int = 30,
) -> pd.DataFrame:
    """``stores``: (store_id, latitude, longitude); ``persona_cities``: (city, country or None)."""
    as_of = _as_of(as_of_date)
    contacts = existing_contacts(data, as_of)
    stores = list(stores)
    cities = [(city.strip().lower(), country) for city, country in persona_cities]

    # behaviour and funnel from the web events
    web = data["web_events"]
    web = web[web["contact_id"].notna()].copy()
    web["age"] = _age_in_days(web["occurred_at"], as_of)
    web = web[web["age"] >= 0]
    recent = web[web["age"] <= behaviour_window_days]
    sessions = recent.groupby("contact_id")["session_id"].nunique()
    viewed = recent[recent["event_type"] == "product_view"].groupby("contact_id")["product_id"]
    products_viewed = viewed.nunique()
    time_on_site = recent.groupby("contact_id")["duration_seconds"].sum()
    funnel_events = web[web["age"] <= funnel_window_days]
    steps = {
        kind: set(funnel_events.loc[funnel_events["event_type"] == kind, "contact_id"])
        for kind in ("product_view", "add_to_cart", "checkout_started")
    }
    visited = set(funnel_events["contact_id"])
    carts = data["carts"]
    cart_age = _age_in_days(carts["created_at"], as_of)
    steps["add_to_cart"] |= set(
        carts.loc[(cart_age >= 0) & (cart_age <= funnel_window_days), "contact_id"].dropna()
    )

    # orders: average order value and favourite category (valid orders on or before the date)
    orders = data["orders"]
    order_days = _age_in_days(orders["ordered_at"], as_of)
    valid = orders[
        (order_days >= 0)
        & (orders["status"] == "completed")
        & np.array([a is not None and a > 0 for a in orders["amount_net"]], dtype=bool)
    ]
    amounts: dict[str, list[Decimal]] = {}
    for contact_id, amount in zip(valid["contact_id"], valid["amount_net"], strict=True):
        amounts.setdefault(contact_id, []).append(Decimal(str(amount)))
    order_owner = dict(zip(valid["order_id"], valid["contact_id"], strict=True))
    category_of = dict(
        zip(data["products"]["product_id"], data["products"]["category"], strict=True)
    )
    spend: dict[str, dict[str, Decimal]] = {}
    items = data["order_items"]
    for order_id, product_id, quantity, price in zip(
        items["order_id"],
        items["product_id"],
        items["quantity"],
        items["unit_price_net"],
        strict=True,
    ):
        owner = order_owner.get(order_id)
        category = category_of.get(product_id)
        if owner is None or category is None or _is_missing(quantity) or price is None:
            continue
        per_category = spend.setdefault(owner, {})
        per_category[category] = per_category.get(category, Decimal(0)) + int(quantity) * price

    rows = []
    for contact in contacts.itertuples(index=False):
        contact_id = contact.contact_id
        age = age_on(_date(contact.birth_date), as_of)
        city = None if _is_missing(contact.city) else str(contact.city).strip().lower()
        country = None if _is_missing(contact.country_code) else str(contact.country_code)
        in_city = city is not None and any(
            city == name and (want is None or want == country) for name, want in cities
        )
        lat, lon = _float(contact.latitude), _float(contact.longitude)
        distance = nearest = None
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            ranked = sorted(
                (haversine_km(lat, lon, s_lat, s_lon), sid) for sid, s_lat, s_lon in stores
            )
            if ranked:
                distance = round(ranked[0][0], 3)
                nearest = ranked[0][1]
        days = contact.days_since_last_order
        if not _is_missing(days) and int(days) <= funnel_window_days:
            stage = "purchased"
        elif contact_id in steps["checkout_started"]:
            stage = "started_checkout"
        elif contact_id in steps["add_to_cart"]:
            stage = "added_to_cart"
        elif contact_id in steps["product_view"]:
            stage = "viewed_product"
        elif contact_id in visited:
            stage = "visited"
        else:
            stage = None
        paid = amounts.get(contact_id)
        aov = (
            (sum(paid, Decimal(0)) / len(paid)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
            if paid
            else None
        )
        categories = spend.get(contact_id)
        favourite = (
            sorted(categories.items(), key=lambda item: (-item[1], item[0]))[0][0]
            if categories
            else None
        )
        rows.append(
            {
                "contact_id": contact_id,
                "age": age,
                "age_band": age_band(age),
                "persona": persona(age, in_city),
                "nearest_store_id": nearest,
                "distance_to_store_km": distance,
                "is_within_store_radius": None if distance is None else distance <= store_radius_km,
                "average_order_value": aov,
                "sessions_count": int(sessions.get(contact_id, 0)),
                "products_viewed_count": int(products_viewed.get(contact_id, 0)),
                "time_on_site_seconds": int(time_on_site.get(contact_id, 0)),
                "funnel_stage": stage,
                "favourite_category": favourite,
            }
        )
    return pd.DataFrame(rows).sort_values("contact_id", kind="mergesort").reset_index(drop=True)
