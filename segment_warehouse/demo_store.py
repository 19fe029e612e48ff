"""Deterministic demo-store generator: a realistic shop in the project's raw data contract.

Usage::

    segment-warehouse-generate --contacts 20000 --seed 42 --as-of 2025-06-30 --out data/demo
    python -m segment_warehouse.demo_store --contacts 1000000 --format parquet --out data/big

Layout: always one folder per entity holding numbered parts, ``<out>/<entity>/part-00000.parquet``
(or ``.csv``), one part per chunk of contacts that has rows for that entity (an entity with no rows
at all still gets one empty part, so that every entity exists). The warehouse reads
``<entity>/*.parquet|csv``. Existing ``<entity>/`` folders and ``<entity>.parquet|csv`` files in
the output folder are replaced; nothing else there is touched.

Everything is drawn from numpy ``Generator`` streams derived from the seed, so the same arguments
(seed, contacts, as-of date, years, format, chunk size) give byte-identical files. Contacts are
generated and written in chunks (20,000 by default), so memory stays bounded at any size.

The model, in short:

* contacts sign up over the history (more recently more often, with the shop's seasonality); most
  subscribe to the newsletter; demographics come from ~40 real European cities (mainly Italian),
  with 10-20% missing birth dates, genders and cities;
* buying follows a BG/NBD-like process: about 45% of contacts never buy; buyers make a first
  purchase after signing up, then repeat at a gamma-distributed rate and drop out after each
  purchase with a beta-distributed probability (a minority of loyal, frequent buyers), giving about
  ten orders per contact on average over two years, half the buyers with a single order and a long
  tail; timing follows seasonality (November-December and Black Friday peaks, weekly and daily
  patterns); order values are log-normal; ~5% cancelled, ~2% pending, refunds on ~3% of completed
  orders, discount codes (welcome, seasonal, win-back, VIP);
* weekly email campaigns (plus seasonal ones) to consenting subscribers, with opens and clicks
  driven by each contact's latent engagement (super-active to dormant, fading with time), rare
  bounces and complaints, unsubscribes that set ``unsubscribed_at`` and stop later sends;
* web sessions (organic, paid search, social, email, direct) for known and anonymous visitors:
  sessions that end in an order, browsing sessions (some leave a cart behind: abandoned carts),
  and sessions opened from email clicks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
import unicodedata
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

# --------------------------------------------------------------------------------------------
# Contract
# --------------------------------------------------------------------------------------------

TS = pa.timestamp("us")

SCHEMAS: dict[str, pa.Schema] = {
    "contacts": pa.schema(
        [
            ("contact_id", pa.string()),
            ("email", pa.string()),
            ("first_name", pa.string()),
            ("last_name", pa.string()),
            ("created_at", TS),
            ("subscribed_at", TS),
            ("email_consent", pa.bool_()),
            ("sms_consent", pa.bool_()),
            ("unsubscribed_at", TS),
            ("birth_date", pa.date32()),
            ("gender", pa.string()),
            ("city", pa.string()),
            ("region", pa.string()),
            ("country_code", pa.string()),
            ("postal_code", pa.string()),
            ("latitude", pa.float64()),
            ("longitude", pa.float64()),
            ("acquisition_source", pa.string()),
        ]
    ),
    "orders": pa.schema(
        [
            ("order_id", pa.string()),
            ("contact_id", pa.string()),
            ("ordered_at", TS),
            ("status", pa.string()),
            ("currency", pa.string()),
            ("amount_net", pa.float64()),
            ("amount_gross", pa.float64()),
            ("discount_code", pa.string()),
        ]
    ),
    "refunds": pa.schema(
        [
            ("refund_id", pa.string()),
            ("order_id", pa.string()),
            ("contact_id", pa.string()),
            ("refunded_at", TS),
            ("amount_net", pa.float64()),
        ]
    ),
    "order_items": pa.schema(
        [
            ("order_id", pa.string()),
            ("line_number", pa.int64()),
            ("product_id", pa.string()),
            ("quantity", pa.int64()),
            ("unit_price_net", pa.float64()),
        ]
    ),
    "products": pa.schema(
        [
            ("product_id", pa.string()),
            ("product_name", pa.string()),
            ("category", pa.string()),
            ("price_net", pa.float64()),
        ]
    ),
    "carts": pa.schema(
        [
            ("cart_id", pa.string()),
            ("contact_id", pa.string()),
            ("created_at", TS),
            ("updated_at", TS),
            ("value_net", pa.float64()),
            ("order_id", pa.string()),
        ]
    ),
    "web_events": pa.schema(
        [
            ("event_id", pa.string()),
            ("contact_id", pa.string()),
            ("anonymous_id", pa.string()),
            ("session_id", pa.string()),
            ("event_type", pa.string()),
            ("occurred_at", TS),
            ("product_id", pa.string()),
            ("page_url", pa.string()),
            ("duration_seconds", pa.int64()),
            ("channel", pa.string()),
        ]
    ),
    "email_events": pa.schema(
        [
            ("event_id", pa.string()),
            ("contact_id", pa.string()),
            ("campaign_id", pa.string()),
            ("event_type", pa.string()),
            ("occurred_at", TS),
        ]
    ),
}

ENTITIES: tuple[str, ...] = tuple(SCHEMAS)
FORMATS = ("parquet", "csv")
DEFAULT_CHUNK_CONTACTS = 20_000
CURRENCY = "EUR"
VAT_RATE = 0.22

# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------

# city, region, country_code, latitude, longitude, postal_code, weight (roughly population)
CITIES: tuple[tuple[str, str, str, float, float, str, float], ...] = (
    ("Milano", "Lombardia", "IT", 45.4642, 9.1900, "20121", 9.0),
    ("Roma", "Lazio", "IT", 41.9028, 12.4964, "00184", 11.0),
    ("Napoli", "Campania", "IT", 40.8518, 14.2681, "80133", 6.0),
    ("Torino", "Piemonte", "IT", 45.0703, 7.6869, "10121", 5.5),
    ("Palermo", "Sicilia", "IT", 38.1157, 13.3615, "90133", 4.0),
    ("Genova", "Liguria", "IT", 44.4056, 8.9463, "16121", 3.5),
    ("Bologna", "Emilia-Romagna", "IT", 44.4949, 11.3426, "40121", 3.5),
    ("Firenze", "Toscana", "IT", 43.7696, 11.2558, "50122", 3.5),
    ("Bari", "Puglia", "IT", 41.1171, 16.8719, "70121", 2.5),
    ("Catania", "Sicilia", "IT", 37.5079, 15.0830, "95121", 2.0),
    ("Venezia", "Veneto", "IT", 45.4408, 12.3155, "30124", 2.0),
    ("Verona", "Veneto", "IT", 45.4384, 10.9916, "37121", 2.0),
    ("Messina", "Sicilia", "IT", 38.1938, 15.5540, "98122", 1.2),
    ("Padova", "Veneto", "IT", 45.4064, 11.8768, "35121", 1.8),
    ("Trieste", "Friuli-Venezia Giulia", "IT", 45.6495, 13.7768, "34121", 1.2),
    ("Brescia", "Lombardia", "IT", 45.5416, 10.2118, "25121", 1.6),
    ("Parma", "Emilia-Romagna", "IT", 44.8015, 10.3279, "43121", 1.5),
    ("Taranto", "Puglia", "IT", 40.4644, 17.2470, "74121", 1.0),
    ("Prato", "Toscana", "IT", 43.8777, 11.1022, "59100", 1.0),
    ("Modena", "Emilia-Romagna", "IT", 44.6471, 10.9252, "41121", 1.4),
    ("Reggio Calabria", "Calabria", "IT", 38.1113, 15.6473, "89121", 0.9),
    ("Perugia", "Umbria", "IT", 43.1107, 12.3908, "06121", 1.0),
    ("Cagliari", "Sardegna", "IT", 39.2238, 9.1217, "09121", 1.1),
    ("Bergamo", "Lombardia", "IT", 45.6983, 9.6773, "24121", 1.5),
    ("Pescara", "Abruzzo", "IT", 42.4618, 14.2161, "65121", 0.9),
    ("Trento", "Trentino-Alto Adige", "IT", 46.0748, 11.1217, "38121", 1.0),
    ("Bolzano", "Trentino-Alto Adige", "IT", 46.4983, 11.3548, "39100", 0.9),
    ("Ancona", "Marche", "IT", 43.6158, 13.5189, "60121", 0.8),
    ("Lecce", "Puglia", "IT", 40.3515, 18.1750, "73100", 0.8),
    ("Monza", "Lombardia", "IT", 45.5845, 9.2744, "20900", 1.2),
    ("Paris", "Ile-de-France", "FR", 48.8566, 2.3522, "75001", 2.0),
    ("Lyon", "Auvergne-Rhone-Alpes", "FR", 45.7640, 4.8357, "69001", 0.9),
    ("Marseille", "Provence-Alpes-Cote d'Azur", "FR", 43.2965, 5.3698, "13001", 0.7),
    ("Nice", "Provence-Alpes-Cote d'Azur", "FR", 43.7102, 7.2620, "06000", 0.6),
    ("Berlin", "Berlin", "DE", 52.5200, 13.4050, "10115", 1.5),
    ("Munchen", "Bayern", "DE", 48.1351, 11.5820, "80331", 1.3),
    ("Frankfurt am Main", "Hessen", "DE", 50.1109, 8.6821, "60311", 0.7),
    ("Madrid", "Comunidad de Madrid", "ES", 40.4168, -3.7038, "28013", 1.5),
    ("Barcelona", "Cataluna", "ES", 41.3874, 2.1686, "08002", 1.3),
    ("Valencia", "Comunitat Valenciana", "ES", 39.4699, -0.3763, "46002", 0.6),
    ("London", "England", "GB", 51.5074, -0.1278, "WC2N 5DU", 1.8),
    ("Manchester", "England", "GB", 53.4808, -2.2426, "M2 5DB", 0.6),
    ("Edinburgh", "Scotland", "GB", 55.9533, -3.1883, "EH1 1YJ", 0.5),
)

COUNTRIES = ("IT", "FR", "DE", "ES", "GB")

# (female first names, male first names, last names) per country
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "IT": (
        (
            "Giulia", "Francesca", "Sara", "Martina", "Chiara", "Valentina", "Alessia",
            "Federica", "Elena", "Silvia", "Laura", "Anna", "Giorgia", "Sofia", "Aurora",
            "Alice", "Elisa", "Paola", "Roberta", "Simona", "Beatrice", "Ilaria", "Marta",
            "Camilla", "Noemi", "Serena", "Cristina", "Monica", "Barbara", "Claudia",
        ),
        (
            "Marco", "Alessandro", "Andrea", "Luca", "Matteo", "Francesco", "Lorenzo",
            "Davide", "Simone", "Federico", "Gabriele", "Riccardo", "Stefano", "Giuseppe",
            "Antonio", "Paolo", "Giovanni", "Roberto", "Fabio", "Nicola", "Emanuele",
            "Tommaso", "Leonardo", "Filippo", "Daniele", "Michele", "Alberto", "Massimo",
            "Salvatore", "Pietro",
        ),
        (
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
            "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro",
            "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone", "Longo",
            "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis",
            "D'Angelo", "Marchetti", "Parisi", "Villa", "Conte", "Ferraro", "Ferri", "Fabbri",
            "Bianco", "Marini", "Grasso", "Valentini",
        ),
    ),
    "FR": (
        ("Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Julie", "Claire", "Pauline"),
        ("Lucas", "Hugo", "Louis", "Nathan", "Thomas", "Antoine", "Julien", "Nicolas", "Pierre",
         "Maxime"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
         "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia"),
    ),
    "DE": (
        ("Anna", "Lena", "Laura", "Julia", "Sophie", "Lea", "Hannah", "Katharina", "Sarah",
         "Marie"),
        ("Lukas", "Felix", "Jonas", "Maximilian", "Leon", "Paul", "Tobias", "Jan", "Niklas",
         "Florian"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder"),
    ),
    "ES": (
        ("María", "Lucía", "Paula", "Laura", "Marta", "Sara", "Carmen", "Ana", "Elena", "Alba"),
        ("Hugo", "Pablo", "Daniel", "Alejandro", "Javier", "David", "Carlos", "Sergio", "Adrián",
         "Manuel"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez",
         "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno"),
    ),
    "GB": (
        ("Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophie", "Grace", "Lily", "Charlotte",
         "Jessica"),
        ("Oliver", "George", "Harry", "Jack", "Jacob", "Charlie", "Thomas", "James", "William",
         "Daniel"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
         "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts"),
    ),
}  # fmt: skip

# Reserved example domains (RFC 2606) so that no generated address can reach a real mailbox.
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
EMAIL_DOMAIN_WEIGHTS = (0.45, 0.25, 0.2, 0.1)

GENDERS = ("female", "male", "non_binary", "unknown")
GENDER_WEIGHTS = (0.51, 0.41, 0.02, 0.06)

ACQUISITION_SOURCES = (
    "organic_search",
    "paid_search",
    "social",
    "referral",
    "newsletter_popup",
    "marketplace",
    "offline_event",
)
ACQUISITION_WEIGHTS = (0.26, 0.2, 0.18, 0.08, 0.18, 0.06, 0.04)

# category, median price, log-sd, popularity, nouns
CATEGORIES: tuple[tuple[str, float, float, float, tuple[str, ...]], ...] = (
    ("apparel", 35.0, 0.55, 0.20,
     ("T-Shirt", "Linen Shirt", "Denim Jacket", "Wool Sweater", "Chinos", "Summer Dress",
      "Hoodie", "Raincoat")),
    ("shoes", 75.0, 0.45, 0.10,
     ("Sneakers", "Loafers", "Ankle Boots", "Sandals", "Running Shoes", "Derby Shoes",
      "Espadrilles", "Slippers")),
    ("accessories", 28.0, 0.6, 0.10,
     ("Leather Belt", "Silk Scarf", "Tote Bag", "Sunglasses", "Wallet", "Beanie", "Backpack",
      "Watch Strap")),
    ("beauty", 20.0, 0.5, 0.12,
     ("Face Cream", "Shampoo", "Lip Balm", "Eau de Parfum", "Body Lotion", "Serum",
      "Hand Soap", "Sunscreen")),
    ("home", 32.0, 0.7, 0.10,
     ("Scented Candle", "Cotton Towel", "Ceramic Mug", "Throw Pillow", "Table Lamp",
      "Linen Napkins", "Vase", "Picture Frame")),
    ("electronics", 85.0, 0.8, 0.08,
     ("Wireless Earbuds", "Power Bank", "Bluetooth Speaker", "Smart Plug", "USB-C Charger",
      "Fitness Tracker", "Desk Lamp", "Webcam")),
    ("sports", 45.0, 0.6, 0.08,
     ("Yoga Mat", "Water Bottle", "Cycling Gloves", "Gym Bag", "Resistance Bands",
      "Tennis Balls", "Running Belt", "Swim Goggles")),
    ("books", 15.0, 0.35, 0.07,
     ("Cookbook", "Travel Guide", "Novel", "Art Book", "Children's Book", "Notebook",
      "Planner", "Photo Album")),
    ("toys", 25.0, 0.55, 0.07,
     ("Puzzle", "Board Game", "Plush Bear", "Building Blocks", "Wooden Train", "Kite",
      "Card Game", "Doll")),
    ("grocery", 9.0, 0.45, 0.08,
     ("Olive Oil", "Espresso Beans", "Pasta", "Balsamic Vinegar", "Green Tea", "Honey",
      "Dark Chocolate", "Pesto")),
)  # fmt: skip

ADJECTIVES = (
    "Classic", "Essential", "Organic", "Premium", "Vintage", "Urban", "Coastal", "Alpine",
    "Tuscan", "Nordic", "Everyday", "Deluxe", "Eco", "Soft", "Bold", "Heritage", "Mini",
    "Signature", "Studio", "Weekend",
)  # fmt: skip
PRODUCTS_PER_CATEGORY = 50

# discount code, discount fraction
DISCOUNT_CODES = (
    ("WELCOME10", 0.10),
    ("BLACKFRIDAY20", 0.20),
    ("XMAS15", 0.15),
    ("SUMMER15", 0.15),
    ("COMEBACK10", 0.10),
    ("VIP5", 0.05),
)
_CODE_WELCOME, _CODE_BF, _CODE_XMAS, _CODE_SUMMER, _CODE_COMEBACK, _CODE_VIP = range(6)

ORDER_STATUSES = ("completed", "cancelled", "pending")
CHANNELS = ("organic", "paid_search", "social", "email", "direct")
CHANNEL_WEIGHTS_KNOWN = (0.3, 0.18, 0.12, 0.08, 0.32)
CHANNEL_WEIGHTS_ANON = (0.38, 0.27, 0.2, 0.0, 0.15)
_CH_SOCIAL, _CH_EMAIL = 2, 3

WEB_EVENT_TYPES = (
    "page_view",
    "product_view",
    "add_to_cart",
    "checkout_started",
    "search",
    "social_interaction",
)
# Order of event types inside a session (indices into WEB_EVENT_TYPES): land on pages, search,
# look at products, share, add to cart, check out.
_SESSION_STEPS = np.array([0, 4, 1, 5, 2, 3], dtype=np.int64)
_STEP_PAGE, _STEP_SEARCH, _STEP_PRODUCT, _STEP_SOCIAL, _STEP_CART, _STEP_CHECKOUT = range(6)
# median seconds spent on each step, in session order
_STEP_DURATION_MEDIAN = np.array([22.0, 12.0, 40.0, 15.0, 8.0, 75.0])

EMAIL_EVENT_TYPES = ("sent", "delivered", "open", "click", "bounce", "unsubscribe", "complaint")
_E_SENT, _E_DELIVERED, _E_OPEN, _E_CLICK, _E_BOUNCE, _E_UNSUB, _E_COMPLAINT = range(7)

STATIC_PAGES = (
    "/",
    "/sale",
    "/new-arrivals",
    "/stores",
    "/account",
    "/wishlist",
    "/blog",
    "/blog/gift-guide",
    "/blog/summer-looks",
    "/blog/italian-recipes",
    "/about",
    "/help/shipping",
    "/help/returns",
)
STATIC_PAGE_WEIGHTS = (0.3, 0.08, 0.07, 0.02, 0.05, 0.03, 0.03, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02)
SEARCH_TERMS = (
    "sneakers", "dress", "gift", "candle", "olive oil", "earbuds", "yoga mat", "sale",
    "backpack", "perfume", "coffee", "puzzle", "linen", "boots", "sunglasses", "cookbook",
)  # fmt: skip

# shares of the model (kept together so the calibration is visible in one place)
P_NEVER_BUYER = 0.42  # contacts that never buy (before the history even ends)
P_QUICK_FIRST_ORDER = 0.35  # buyers whose first order comes right after signing up
MEAN_FIRST_ORDER_DELAY_DAYS = 45.0
P_LOYAL = 0.28  # buyers with low drop-out and high purchase rate
P_SUBSCRIBED = 0.85
P_CANCELLED = 0.05
P_PENDING = 0.02
P_REFUND = 0.03
P_TRACKED_ORDER = 0.12  # orders whose web session (and cart) was tracked
P_MISSING_BIRTH_DATE = 0.15
P_MISSING_GENDER = 0.12
P_MISSING_CITY = 0.13


# --------------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------------


def _starts(counts: np.ndarray) -> np.ndarray:
    """Start offset of each group in the flat array obtained by repeating groups by counts."""
    out = np.zeros(len(counts), dtype=np.int64)
    if len(counts) > 1:
        np.cumsum(counts[:-1], out=out[1:])
    return out


def _rank(counts: np.ndarray) -> np.ndarray:
    """Position of every element within its group (0, 1, ...) in the flat expansion."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(_starts(counts), counts)


def _seg_cumsum_exclusive(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum within groups, excluding the current element."""
    if len(values) == 0:
        return values.copy()
    excl = np.cumsum(values) - values
    base = excl[np.minimum(_starts(counts), len(values) - 1)]
    return excl - np.repeat(base, counts)


def _choice(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    cum /= cum[-1]
    return np.minimum(np.searchsorted(cum, rng.random(size), side="right"), len(cum) - 1)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Fixed-width ids like 'C0000001' built straight into an Arrow string buffer."""
    numbers = np.asarray(numbers, dtype=np.int64)
    n = len(numbers)
    top = int(numbers.max()) if n else 0
    width = max(width, len(str(top)))
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    w = len(head) + width
    digits = np.empty((w, n), dtype=np.uint8)  # one row per character: contiguous writes
    digits[: len(head)] = head[:, None]
    kind = np.uint32 if top < 2**32 else np.uint64
    rest = numbers.astype(kind)
    ten = kind(10)
    for j in range(w - 1, len(head) - 1, -1):
        quotient = rest // ten
        np.subtract(rest, quotient * ten, out=rest)
        digits[j] = rest
        digits[j] += 48
        rest = quotient
    data = pa.py_buffer(np.ascontiguousarray(digits.T))
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    if offsets[-1] < 2**31:
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), data)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), data).cast(pa.string())


def _take(vocab: Sequence[str] | pa.Array, idx: np.ndarray, mask: np.ndarray | None = None):
    """Values picked from a small vocabulary, as a dictionary array (cheap to build and write;
    parquet stores it as a plain string column)."""
    words = vocab.to_pylist() if isinstance(vocab, pa.Array) else list(vocab)
    idx = np.asarray(idx, dtype=np.int32)
    unique = list(dict.fromkeys(words))
    if len(unique) < len(words):
        # a dictionary with repeated values makes the parquet writer's output vary from run to
        # run (same content, different bytes): map repeats to their first occurrence
        position = {word: i for i, word in enumerate(unique)}
        idx = np.array([position[word] for word in words], dtype=np.int32)[idx]
    return pa.DictionaryArray.from_arrays(pa.array(idx, mask=mask), pa.array(unique, pa.string()))


def _table(entity: str, columns: list[pa.Array]) -> pa.Table:
    schema = SCHEMAS[entity]
    for column, expected in zip(columns, schema, strict=True):
        actual = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if actual != expected.type:
            raise TypeError(f"{entity}.{expected.name}: {actual} is not {expected.type}")
    return pa.table(columns, names=schema.names)


def _ts(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Epoch seconds (int64) to an Arrow timestamp[us] array."""
    return pa.array(np.asarray(seconds, dtype=np.int64) * 1_000_000, type=TS, mask=mask)


def _money(cents: np.ndarray) -> pa.Array:
    return pa.array(np.round(np.asarray(cents, dtype=np.float64) / 100.0, 2), pa.float64())


def _ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in plain.lower() if ch.isalnum())


# --------------------------------------------------------------------------------------------
# Calendar: seasonality as a time warp
# --------------------------------------------------------------------------------------------


@dataclass
class _Clock:
    """Maps real time (seconds since the history start) to 'operational' days and back.

    Shop activity (sign-ups, orders, visits) is a process that is homogeneous in operational time;
    the hourly weights (daily profile x weekday x season x promotions) make it seasonal in real
    time. One operational day is one average day.
    """

    start: int  # epoch seconds of the history start (00:00 UTC)
    horizon: int  # seconds from start to the end of the as-of day (exclusive)
    weights: np.ndarray  # operational days per hour, one per hour of history
    cum: np.ndarray  # cumulative operational days at each hour boundary
    total: float  # operational days in the whole history
    day_promo: np.ndarray  # seasonal discount code per day (-1 = none)
    first_day: np.datetime64

    @classmethod
    def build(cls, as_of: dt.date, years: float) -> _Clock:
        days = max(1, round(years * 365))
        first = np.datetime64(as_of, "D") - np.int64(days - 1)
        dates = first + np.arange(days, dtype=np.int64)
        month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
        dom = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
        weekday = (dates.astype(np.int64) + 3) % 7  # Monday = 0
        month_factor = np.array(
            [0.95, 0.8, 0.9, 0.92, 0.95, 0.93, 1.0, 0.72, 0.95, 1.0, 1.3, 1.45]
        )[month - 1]
        weekday_factor = np.array([1.05, 1.0, 1.0, 1.0, 0.95, 0.88, 1.12])[weekday]
        day_w = month_factor * weekday_factor
        day_promo = np.full(days, -1, dtype=np.int64)
        for year in range(int(dates[0].astype("datetime64[Y]").astype(int)) + 1970, as_of.year + 1):
            nov1 = dt.date(year, 11, 1)
            thanksgiving = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7 + 21)
            black_friday = np.datetime64(thanksgiving + dt.timedelta(days=1), "D")
            week = (dates >= black_friday - np.int64(3)) & (dates <= black_friday + np.int64(3))
            day_w[week] *= 2.2
            day_w[dates == black_friday] *= 1.4
            day_promo[week] = _CODE_BF
        xmas = (month == 12) & (dom <= 22)
        day_w[xmas & (dom >= 8)] *= 1.25
        day_w[(month == 12) & (dom >= 24) & (dom <= 26)] *= 0.5
        day_promo[xmas & (day_promo < 0)] = _CODE_XMAS
        day_promo[(month == 7) & (day_promo < 0)] = _CODE_SUMMER
        hour_w = np.array(
            [0.25, 0.15, 0.1, 0.1, 0.12, 0.25, 0.5, 0.8, 1.0, 1.1, 1.2, 1.3,
             1.35, 1.2, 1.1, 1.1, 1.15, 1.3, 1.5, 1.65, 1.6, 1.3, 0.9, 0.5]
        )  # fmt: skip
        weights = (day_w[:, None] * hour_w[None, :]).ravel()
        weights *= days / weights.sum()
        cum = np.concatenate([[0.0], np.cumsum(weights)])
        start = int(first.astype("datetime64[s]").astype(np.int64))
        return cls(start, days * 86400, weights, cum, float(cum[-1]), day_promo, first)

    def to_op(self, t: np.ndarray) -> np.ndarray:
        hours = np.asarray(t, dtype=np.float64) / 3600.0
        h = np.clip(np.floor(hours).astype(np.int64), 0, len(self.weights) - 1)
        return self.cum[h] + (hours - h) * self.weights[h]

    def from_op(self, s: np.ndarray) -> np.ndarray:
        s = np.clip(np.asarray(s, dtype=np.float64), 0.0, self.total)
        h = np.clip(np.searchsorted(self.cum, s, side="right") - 1, 0, len(self.weights) - 1)
        return 3600.0 * (h + (s - self.cum[h]) / self.weights[h])

    def seconds(self, s: np.ndarray) -> np.ndarray:
        """Operational days -> whole seconds since the history start, within the history."""
        t = np.floor(self.from_op(s)).astype(np.int64)
        return np.clip(t, 0, self.horizon - 1)


# --------------------------------------------------------------------------------------------
# Catalogue and campaigns (shared by all chunks)
# --------------------------------------------------------------------------------------------


@dataclass
class _Catalogue:
    table: pa.Table
    ids: pa.Array
    category: np.ndarray
    price_cents: np.ndarray
    search_key: np.ndarray  # category * 100 + log(price), sorted
    cat_start: np.ndarray
    cat_end: np.ndarray
    popularity_cum: np.ndarray
    urls: pa.Array  # page_url vocabulary
    url_product0: int  # index in urls of the first product page
    url_search0: int
    url_checkout: int


def _catalogue(rng: np.random.Generator) -> _Catalogue:
    n_cat = len(CATEGORIES)
    per = PRODUCTS_PER_CATEGORY
    cats, prices, names, popularity = [], [], [], []
    for c, (_, median, sd, pop, nouns) in enumerate(CATEGORIES):
        combos = rng.choice(len(ADJECTIVES) * len(nouns), size=per, replace=False)
        raw = median * np.exp(sd * rng.standard_normal(per))
        ending = np.array([0.9, 0.99, 0.5, 0.0])[_choice(rng, (0.45, 0.3, 0.15, 0.1), per)]
        price = np.maximum(np.floor(raw), 1.0) + ending
        order = np.argsort(price, kind="stable")
        for k in order:
            adj, noun = divmod(int(combos[k]), len(nouns))
            names.append(f"{ADJECTIVES[adj]} {nouns[noun]}")
        prices.append(np.round(price[order] * 100).astype(np.int64))
        cats.append(np.full(per, c, dtype=np.int64))
        # within a category a few products sell much more than the others (Zipf-like)
        popularity.append(pop * rng.permutation(1.0 / np.arange(1, per + 1) ** 0.9))
    category = np.concatenate(cats)
    price_cents = np.concatenate(prices)
    n = len(category)
    ids = _ids("P", np.arange(1, n + 1), 5)
    table = _table(
        "products",
        [
            ids,
            pa.array(names, pa.string()),
            _take([c[0] for c in CATEGORIES], category),
            _money(price_cents),
        ],
    )
    pop = np.concatenate(popularity)
    slugs = [
        f"/products/{'-'.join(name.lower().replace(chr(39), '').split())}-p{i + 1:05d}"
        for i, name in enumerate(names)
    ]
    url_list = list(STATIC_PAGES) + slugs
    url_list += [f"/search?q={term.replace(' ', '+')}" for term in SEARCH_TERMS]
    url_list.append("/checkout")
    return _Catalogue(
        table=table,
        ids=ids,
        category=category,
        price_cents=price_cents,
        search_key=category * 100.0 + np.log(price_cents / 100.0),
        cat_start=np.arange(n_cat, dtype=np.int64) * per,
        cat_end=np.arange(1, n_cat + 1, dtype=np.int64) * per,
        popularity_cum=np.cumsum(pop) / pop.sum(),
        urls=pa.array(url_list, pa.string()),
        url_product0=len(STATIC_PAGES),
        url_search0=len(STATIC_PAGES) + n,
        url_checkout=len(url_list) - 1,
    )


@dataclass
class _Campaigns:
    times: np.ndarray  # seconds since history start, sorted
    audience: np.ndarray  # share of the list each campaign goes to
    ids: pa.Array


def _campaigns(rng: np.random.Generator, clock: _Clock) -> _Campaigns:
    days = clock.horizon // 86400
    dates = clock.first_day + np.arange(days, dtype=np.int64)
    weekday = (dates.astype(np.int64) + 3) % 7
    # weekly newsletter on Tuesdays at 08:00 UTC, promotions on Black Friday week and in December
    newsletter = np.flatnonzero(weekday == 1)
    promo = np.flatnonzero((clock.day_promo == _CODE_BF) & (weekday == 4))
    promo = np.concatenate(
        [promo, np.flatnonzero((clock.day_promo == _CODE_XMAS) & (weekday == 3))]
    )
    day_idx = np.concatenate([newsletter, promo])
    hour = np.concatenate([np.full(len(newsletter), 8), np.full(len(promo), 17)])
    times = day_idx * 86400 + hour * 3600
    order = np.argsort(times, kind="stable")
    times = times[order]
    audience = np.where(
        hour[order] == 8, rng.uniform(0.3, 0.55, len(times)), rng.uniform(0.5, 0.8, len(times))
    )
    return _Campaigns(
        times=times, audience=audience, ids=_ids("CMP", np.arange(1, len(times) + 1), 5)
    )


# --------------------------------------------------------------------------------------------
# One chunk of contacts
# --------------------------------------------------------------------------------------------


@dataclass
class _Counters:
    orders: int = 0
    refunds: int = 0
    carts: int = 0
    sessions: int = 0
    web_events: int = 0
    email_events: int = 0


@dataclass
class _Context:
    clock: _Clock
    catalogue: _Catalogue
    campaigns: _Campaigns
    contacts_total: int
    seed: int
    as_of: dt.date
    counters: _Counters = field(default_factory=_Counters)
    contact_width: int = 7
    order_width: int = 8


def _name_pools() -> tuple[pa.Array, pa.Array, np.ndarray, np.ndarray, pa.Array, pa.Array]:
    """Flat first/last name vocabularies with per (country, sex) offsets."""
    first: list[str] = []
    last: list[str] = []
    first_off = np.zeros((len(COUNTRIES), 2, 2), dtype=np.int64)  # country, sex, (start, count)
    last_off = np.zeros((len(COUNTRIES), 2), dtype=np.int64)
    for c, code in enumerate(COUNTRIES):
        female, male, surnames = NAMES[code]
        for sex, pool in enumerate((female, male)):
            first_off[c, sex] = (len(first), len(pool))
            first.extend(pool)
        last_off[c] = (len(last), len(surnames))
        last.extend(surnames)
    return (
        pa.array(first, pa.string()),
        pa.array(last, pa.string()),
        first_off,
        last_off,
        pa.array([_ascii_slug(x) for x in first], pa.string()),
        pa.array([_ascii_slug(x) for x in last], pa.string()),
    )


_NAME_POOLS = _name_pools()


def _generate_chunk(ctx: _Context, chunk: int, first_contact: int, n: int) -> dict[str, pa.Table]:
    rng = np.random.default_rng(np.random.SeedSequence(ctx.seed, spawn_key=(1, chunk)))
    clock = ctx.clock
    end = clock.horizon - 1  # last second of the as-of day, relative to the history start
    cnt = ctx.counters

    contact_ids = _ids("C", first_contact + np.arange(1, n + 1), ctx.contact_width)
    z = rng.standard_normal(n)  # latent affinity with the brand: buys, browses, opens more

    # ---- sign-up and subscription --------------------------------------------------------
    created_op = clock.total * rng.random(n) ** 0.7
    created_t = clock.seconds(created_op)
    subscribed = rng.random(n) < P_SUBSCRIBED
    sub_delay = np.where(rng.random(n) < 0.6, 0, rng.exponential(45 * 86400.0, n)).astype(np.int64)
    sub_t = created_t + sub_delay
    subscribed &= sub_t <= end
    email_consent = subscribed & (rng.random(n) < 0.92)
    sms_consent = rng.random(n) < np.where(subscribed, 0.35, 0.08)

    # ---- orders: BG/NBD-like ----------------------------------------------------------------
    never = rng.random(n) < np.clip(P_NEVER_BUYER - 0.08 * z, 0.05, 0.95)
    quick = rng.random(n) < P_QUICK_FIRST_ORDER
    delay = np.where(
        quick, rng.exponential(0.03, n), rng.exponential(MEAN_FIRST_ORDER_DELAY_DAYS, n)
    )
    s_first = created_op + delay
    buyer = ~never & (s_first < clock.total)
    loyal = rng.random(n) < P_LOYAL
    rate = np.where(loyal, rng.gamma(1.0, 0.33, n), rng.gamma(0.5, 0.05, n)) * np.exp(0.3 * z)
    dropout = np.where(loyal, rng.beta(1.0, 120.0, n), rng.beta(0.65, 0.5, n))
    window = np.where(buyer, clock.total - s_first, 0.0)
    k_poisson = rng.poisson(rate * window)
    k_alive = rng.geometric(dropout) - 1
    cap = int(250 * max(1.0, clock.total / 365.0))
    repeats = np.where(buyer, np.minimum(np.minimum(k_poisson, k_alive), cap), 0)
    n_orders = np.where(buyer, 1 + repeats, 0)

    # repeat purchases are the first `repeats` of `k_poisson` uniform points in the window
    rep_owner = np.repeat(np.arange(n), repeats)
    gaps = rng.exponential(1.0, len(rep_owner))
    inclusive = _seg_cumsum_exclusive(gaps, repeats) + gaps
    gap_total = np.bincount(rep_owner, weights=gaps, minlength=n)
    rest = rng.gamma(np.maximum(k_poisson + 1 - repeats, 1).astype(np.float64), 1.0)
    rep_s = s_first[rep_owner] + window[rep_owner] * inclusive / (gap_total + rest)[rep_owner]

    o_owner = np.repeat(np.arange(n), n_orders)
    o_rank = _rank(n_orders)
    o_first = o_rank == 0
    o_s = np.empty(len(o_owner))
    o_s[o_first] = s_first[o_owner[o_first]]
    o_s[~o_first] = rep_s
    o_t = np.minimum(np.maximum(clock.seconds(o_s), created_t[o_owner] + 900), end)
    n_ord = len(o_owner)
    order_no = cnt.orders + 1 + np.arange(n_ord)
    cnt.orders += n_ord
    order_ids = _ids("O", order_no, ctx.order_width)
    o_day = o_t // 86400

    # discount codes
    o_prev_gap = np.zeros(n_ord, dtype=np.int64)
    if n_ord:
        o_prev_gap[1:] = np.where(o_first[1:], 0, o_t[1:] - o_t[:-1])
    u = rng.random(n_ord)
    season = clock.day_promo[o_day]
    code = np.full(n_ord, -1, dtype=np.int64)
    code[o_first & (u < 0.3)] = _CODE_WELCOME
    free = code < 0
    season_p = np.where(season == _CODE_BF, 0.45, np.where(season >= 0, 0.2, 0.0))
    use_season = free & (rng.random(n_ord) < season_p)
    code[use_season] = season[use_season]
    free = code < 0
    code[free & (o_prev_gap > 120 * 86400) & (rng.random(n_ord) < 0.4)] = _CODE_COMEBACK
    free = code < 0
    code[free & (o_rank >= 9) & (rng.random(n_ord) < 0.04)] = _CODE_VIP
    pct = np.append(np.array([p for _, p in DISCOUNT_CODES]), 0.0)[code]

    # statuses
    u = rng.random(n_ord)
    recent = o_t > end - 2 * 86400
    status = np.where(
        u < P_CANCELLED, 1, np.where(u < P_CANCELLED + np.where(recent, 0.25, P_PENDING), 2, 0)
    )

    # ---- order lines: products near a log-normal order value -----------------------------
    cat = ctx.catalogue
    aov = np.exp(np.log(48.0) + 0.45 * rng.standard_normal(n))
    fav_cat = _choice(rng, [c[3] for c in CATEGORIES], n)
    value = aov[o_owner] * np.exp(0.55 * rng.standard_normal(n_ord))
    lines = 1 + rng.poisson(0.8, n_ord)
    i_order = np.repeat(np.arange(n_ord), lines)
    n_items = len(i_order)
    line_no = _rank(lines) + 1
    qty = 1 + _choice(rng, (0.82, 0.12, 0.04, 0.01, 0.01), n_items)
    share = rng.gamma(2.0, 1.0, n_items)
    share /= np.bincount(i_order, weights=share, minlength=n_ord)[i_order]
    target = value[i_order] * share / qty * np.exp(0.15 * rng.standard_normal(n_items))
    i_cat = np.where(
        rng.random(n_items) < 0.55,
        fav_cat[o_owner[i_order]],
        _choice(rng, [c[3] for c in CATEGORIES], n_items),
    )
    product = _nearest_product(cat, i_cat, target)
    unit_cents = np.round(cat.price_cents[product] * (1.0 - pct[i_order])).astype(np.int64)
    amount_cents = np.bincount(i_order, weights=qty * unit_cents, minlength=n_ord)
    amount_cents = np.round(amount_cents).astype(np.int64)
    gross_cents = np.round(amount_cents * (1.0 + VAT_RATE)).astype(np.int64)

    orders = _table(
        "orders",
        [
            order_ids,
            contact_ids.take(pa.array(o_owner)),
            _ts(clock.start + o_t),
            _take(ORDER_STATUSES, status),
            _take([CURRENCY], np.zeros(n_ord, dtype=np.int64)),
            _money(amount_cents),
            _money(gross_cents),
            _take([c for c, _ in DISCOUNT_CODES], np.maximum(code, 0), mask=code < 0),
        ],
    )
    order_items = _table(
        "order_items",
        [
            order_ids.take(pa.array(i_order)),
            pa.array(line_no, pa.int64()),
            _take(cat.ids, product),
            pa.array(qty, pa.int64()),
            _money(unit_cents),
        ],
    )

    # ---- refunds --------------------------------------------------------------------------
    refunded = (status == 0) & (rng.random(n_ord) < P_REFUND)
    r_order = np.flatnonzero(refunded)
    r_t = o_t[r_order] + (86400 * (1 + rng.exponential(6.0, len(r_order)))).astype(np.int64)
    keep = r_t <= end
    r_order, r_t = r_order[keep], r_t[keep]
    full = rng.random(len(r_order)) < 0.55
    part = np.round(amount_cents[r_order] * rng.uniform(0.1, 0.9, len(r_order))).astype(np.int64)
    r_cents = np.where(full, amount_cents[r_order], np.maximum(part, 1))
    refund_no = cnt.refunds + 1 + np.arange(len(r_order))
    cnt.refunds += len(r_order)
    refunds = _table(
        "refunds",
        [
            _ids("R", refund_no, 8),
            order_ids.take(pa.array(r_order)),
            contact_ids.take(pa.array(o_owner[r_order])),
            _ts(clock.start + r_t),
            _money(r_cents),
        ],
    )

    # ---- email ------------------------------------------------------------------------------
    email_tables, unsub_t, clicks = _email(ctx, rng, n, z, sub_t, email_consent, contact_ids)
    unsubscribed = unsub_t >= 0
    email_consent = email_consent & ~unsubscribed

    # ---- web sessions and carts -------------------------------------------------------------
    web_events, carts = _web(
        ctx,
        rng,
        n=n,
        first_contact=first_contact,
        z=z,
        rate=rate,
        created_op=created_op,
        created_t=created_t,
        contact_ids=contact_ids,
        o_owner=o_owner,
        o_t=o_t,
        lines=lines,
        product=product,
        amount_cents=amount_cents,
        order_ids=order_ids,
        clicks=clicks,
    )

    contacts = _contacts_table(
        ctx,
        rng,
        n=n,
        first_contact=first_contact,
        contact_ids=contact_ids,
        created_t=created_t,
        subscribed=subscribed,
        sub_t=sub_t,
        email_consent=email_consent,
        sms_consent=sms_consent,
        unsub_t=unsub_t,
    )
    return {
        "contacts": contacts,
        "orders": orders,
        "order_items": order_items,
        "refunds": refunds,
        "carts": carts,
        "web_events": web_events,
        "email_events": email_tables,
    }


def _nearest_product(cat: _Catalogue, category: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Product of the category whose price is closest (in log terms) to the target unit price."""
    key = category * 100.0 + np.log(np.maximum(target, 0.5))
    lo, hi = cat.cat_start[category], cat.cat_end[category] - 1
    right = np.clip(np.searchsorted(cat.search_key, key), lo, hi)
    left = np.maximum(right - 1, lo)
    closer_left = np.abs(cat.search_key[left] - key) < np.abs(cat.search_key[right] - key)
    return np.where(closer_left, left, right)


def _popular_products(cat: _Catalogue, rng: np.random.Generator, size: int) -> np.ndarray:
    idx = np.searchsorted(cat.popularity_cum, rng.random(size), side="right")
    return np.minimum(idx, len(cat.popularity_cum) - 1)


def _contacts_table(
    ctx: _Context,
    rng: np.random.Generator,
    *,
    n: int,
    first_contact: int,
    contact_ids: pa.Array,
    created_t: np.ndarray,
    subscribed: np.ndarray,
    sub_t: np.ndarray,
    email_consent: np.ndarray,
    sms_consent: np.ndarray,
    unsub_t: np.ndarray,
) -> pa.Table:
    clock = ctx.clock
    gender = _choice(rng, GENDER_WEIGHTS, n)
    gender_missing = rng.random(n) < P_MISSING_GENDER
    city = _choice(rng, [c[6] for c in CITIES], n)
    city_missing = rng.random(n) < P_MISSING_CITY
    city_country = np.array([COUNTRIES.index(c[2]) for c in CITIES])[city]
    country = np.where(city_missing, 0, city_country)  # unknown city: name pools of Italy
    country_missing = city_missing & (rng.random(n) < 0.5)

    # names follow the country and (when known) the gender
    first_pool, last_pool, first_off, last_off, first_slug, last_slug = _NAME_POOLS
    sex = np.where(gender == 0, 0, np.where(gender == 1, 1, rng.integers(0, 2, n)))
    f_start, f_count = first_off[country, sex, 0], first_off[country, sex, 1]
    first_idx = f_start + (rng.random(n) * f_count).astype(np.int64)
    l_start, l_count = last_off[country, 0], last_off[country, 1]
    last_idx = l_start + (rng.random(n) * l_count).astype(np.int64)
    domain = _choice(rng, EMAIL_DOMAIN_WEIGHTS, n)
    number = pc.cast(pa.array(first_contact + np.arange(1, n + 1)), pa.string())
    email = pc.binary_join_element_wise(
        first_slug.take(pa.array(first_idx)),
        ".",
        last_slug.take(pa.array(last_idx)),
        number,
        "@",
        pa.array(EMAIL_DOMAINS, pa.string()).take(pa.array(domain)),
        "",
    )

    # ages 18-85 at the as-of date, mostly 25-55
    age_days = (18.0 + 67.0 * rng.beta(2.2, 3.2, n)) * 365.25
    age_days = np.clip(age_days, 18 * 365.25 + 1, 85 * 365.25)
    as_of_day = np.datetime64(ctx.as_of, "D").astype(np.int64)
    birth = (as_of_day - np.ceil(age_days)).astype(np.int32)
    birth_missing = rng.random(n) < P_MISSING_BIRTH_DATE

    lat = np.array([c[3] for c in CITIES])[city] + rng.normal(0.0, 0.015, n)
    lon = np.array([c[4] for c in CITIES])[city] + rng.normal(0.0, 0.02, n)
    unsubscribed = unsub_t >= 0
    return _table(
        "contacts",
        [
            contact_ids,
            email,
            _take(first_pool, first_idx),
            _take(last_pool, last_idx),
            _ts(clock.start + created_t),
            _ts(clock.start + sub_t, mask=~subscribed),
            pa.array(email_consent, pa.bool_()),
            pa.array(sms_consent, pa.bool_()),
            _ts(clock.start + np.maximum(unsub_t, 0), mask=~unsubscribed),
            pa.array(birth, pa.date32(), mask=birth_missing),
            _take(GENDERS, gender, mask=gender_missing),
            _take([c[0] for c in CITIES], city, mask=city_missing),
            _take([c[1] for c in CITIES], city, mask=city_missing),
            _take(COUNTRIES, country, mask=country_missing),
            _take([c[5] for c in CITIES], city, mask=city_missing),
            pa.array(np.round(lat, 4), pa.float64(), mask=city_missing),
            pa.array(np.round(lon, 4), pa.float64(), mask=city_missing),
            _take(ACQUISITION_SOURCES, _choice(rng, ACQUISITION_WEIGHTS, n)),
        ],
    )


def _email(
    ctx: _Context,
    rng: np.random.Generator,
    n: int,
    z: np.ndarray,
    sub_t: np.ndarray,
    email_consent: np.ndarray,
    contact_ids: pa.Array,
) -> tuple[pa.Table, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Campaign sends and reactions. Returns the events, unsubscribe time per contact (-1: none)
    and the (contact, time) of every click (they open web sessions)."""
    end = ctx.clock.horizon - 1
    camp = ctx.campaigns
    n_camp = len(camp.times)

    # latent engagement: super-active, engaged, casual, dormant; fades with list age
    klass = _choice(rng, (0.12, 0.3, 0.33, 0.25), n)
    klass = np.clip(klass - (z > 1.0) + (z < -1.0), 0, 3)
    open_logit = np.array([2.0, -0.8, -2.2, -5.0])[klass] + 0.5 * rng.standard_normal(n)
    click_logit = -1.6 + 0.6 * rng.standard_normal(n)
    bad_address = rng.random(n) < 0.012
    p_unsub = 0.0012 + 0.004 / (1.0 + np.exp(open_logit))

    first_camp = np.searchsorted(camp.times, np.where(email_consent, sub_t, end + 1), side="left")
    eligible = np.where(email_consent, n_camp - first_camp, 0)
    p_owner = np.repeat(np.arange(n), eligible)
    p_camp = first_camp[p_owner] + _rank(eligible)
    chosen = rng.random(len(p_owner)) < camp.audience[p_camp]
    p_owner, p_camp = p_owner[chosen], p_camp[chosen]
    m = len(p_owner)
    sent_t = camp.times[p_camp] + rng.integers(0, 3600, m)

    # the first send to a bad address hard-bounces, then the address is suppressed
    per_contact = np.bincount(p_owner, minlength=n)
    first_send = np.zeros(m, dtype=bool)
    first_send[_starts(per_contact)[per_contact > 0]] = True
    hard = bad_address[p_owner] & first_send
    bounce = hard | (rng.random(m) < 0.004)
    delivered = ~bounce
    bounce_t = sent_t + rng.integers(1, 60, m)
    deliv_t = sent_t + rng.integers(1, 30, m)

    tenure_years = (sent_t - sub_t[p_owner]) / (365.0 * 86400)
    p_open = 1.0 / (1.0 + np.exp(-(open_logit[p_owner] - 0.6 * tenure_years)))
    opened = delivered & (rng.random(m) < p_open)
    open_t = deliv_t + np.exp(np.log(3 * 3600.0) + 1.4 * rng.standard_normal(m)).astype(np.int64)
    opened &= open_t <= end
    clicked = opened & (rng.random(m) < 1.0 / (1.0 + np.exp(-click_logit[p_owner])))
    click_t = open_t + 5 + np.exp(np.log(40.0) + rng.standard_normal(m)).astype(np.int64)
    clicked &= click_t <= end
    unsub = delivered & (rng.random(m) < p_unsub[p_owner])
    unsub_time = np.where(opened, open_t, deliv_t) + 10 + rng.exponential(120.0, m).astype(np.int64)
    unsub &= unsub_time <= end
    complaint = delivered & ~unsub & (rng.random(m) < 0.0004)
    complaint_t = deliv_t + np.exp(np.log(2 * 3600.0) + rng.standard_normal(m)).astype(np.int64)
    complaint &= complaint_t <= end

    # stop after the first hard bounce, unsubscribe or complaint
    stop = hard | unsub | complaint
    first_stop = np.full(n, m, dtype=np.int64)
    pos = np.arange(m)
    np.minimum.at(first_stop, p_owner[stop], pos[stop])
    keep = pos <= first_stop[p_owner]
    unsub_contact = np.full(n, -1, dtype=np.int64)
    stop_pos = first_stop[first_stop < m]
    by_unsub = unsub[stop_pos] | complaint[stop_pos]
    stop_pos = stop_pos[by_unsub]
    unsub_contact[p_owner[stop_pos]] = np.where(
        unsub[stop_pos], unsub_time[stop_pos], complaint_t[stop_pos]
    )
    # nothing reaches the contact after the unsubscription
    limit = np.where(unsub_contact >= 0, unsub_contact, end)[p_owner]
    opened &= open_t <= limit
    clicked &= opened & (click_t <= limit)

    parts = [
        (keep, sent_t, _E_SENT),
        (keep & delivered, deliv_t, _E_DELIVERED),
        (keep & bounce, bounce_t, _E_BOUNCE),
        (keep & opened, open_t, _E_OPEN),
        (keep & clicked, click_t, _E_CLICK),
        (keep & unsub, unsub_time, _E_UNSUB),
        (keep & complaint, complaint_t, _E_COMPLAINT),
    ]
    e_owner = np.concatenate([p_owner[mask] for mask, _, _ in parts])
    e_camp = np.concatenate([p_camp[mask] for mask, _, _ in parts])
    e_t = np.concatenate([t[mask] for mask, t, _ in parts])
    e_type = np.concatenate([np.full(int(mask.sum()), k) for mask, _, k in parts])
    order = np.lexsort((e_type, e_t, e_owner))
    e_owner, e_camp, e_t, e_type = e_owner[order], e_camp[order], e_t[order], e_type[order]
    cnt = ctx.counters
    event_no = cnt.email_events + 1 + np.arange(len(e_owner))
    cnt.email_events += len(e_owner)
    table = _table(
        "email_events",
        [
            _ids("EE", event_no, 10),
            contact_ids.take(pa.array(e_owner)),
            _take(camp.ids, e_camp),
            _take(EMAIL_EVENT_TYPES, e_type),
            _ts(ctx.clock.start + e_t),
        ],
    )
    click_mask = keep & clicked
    return table, unsub_contact, (p_owner[click_mask], click_t[click_mask])


def _web(
    ctx: _Context,
    rng: np.random.Generator,
    *,
    n: int,
    first_contact: int,
    z: np.ndarray,
    rate: np.ndarray,
    created_op: np.ndarray,
    created_t: np.ndarray,
    contact_ids: pa.Array,
    o_owner: np.ndarray,
    o_t: np.ndarray,
    lines: np.ndarray,
    product: np.ndarray,
    amount_cents: np.ndarray,
    order_ids: pa.Array,
    clicks: tuple[np.ndarray, np.ndarray],
) -> tuple[pa.Table, pa.Table]:
    clock, cat, cnt = ctx.clock, ctx.catalogue, ctx.counters
    end = clock.horizon - 1
    n_ord = len(o_owner)

    # session kinds: 0 ends in an order, 1 browsing (known), 2 from an email click, 3 anonymous
    tracked = np.flatnonzero(rng.random(n_ord) < P_TRACKED_ORDER)
    browse_rate = 0.005 * np.exp(0.5 * z) + 0.1 * rate  # per operational day
    n_browse = rng.poisson(browse_rate * (clock.total - created_op))
    b_owner = np.repeat(np.arange(n), n_browse)
    b_s = created_op[b_owner] + rng.random(len(b_owner)) * (clock.total - created_op[b_owner])
    b_t = np.maximum(clock.seconds(b_s), created_t[b_owner])
    c_owner, c_t = clicks
    n_visitors = int(round(1.2 * n))
    visits = rng.geometric(0.6, n_visitors)
    a_owner = n + np.repeat(np.arange(n_visitors), visits)  # owners >= n are anonymous
    a_t = clock.seconds(rng.random(len(a_owner)) * clock.total)

    kind = np.concatenate(
        [
            np.zeros(len(tracked), np.int64),
            np.ones(len(b_owner), np.int64),
            np.full(len(c_owner), 2, np.int64),
            np.full(len(a_owner), 3, np.int64),
        ]
    )
    owner = np.concatenate([o_owner[tracked], b_owner, c_owner, a_owner])
    anchor = np.concatenate([o_t[tracked], b_t, c_t + 3, a_t])  # order time or session start
    s_order = np.concatenate([tracked, np.full(len(kind) - len(tracked), -1, np.int64)])
    order = np.lexsort((anchor, owner))
    kind, owner, anchor, s_order = kind[order], owner[order], anchor[order], s_order[order]
    n_s = len(kind)
    known = kind < 3

    channel = np.where(
        known,
        _choice(rng, CHANNEL_WEIGHTS_KNOWN, n_s),
        _choice(rng, CHANNEL_WEIGHTS_ANON, n_s),
    )
    channel[kind == 2] = _CH_EMAIL

    # how deep each session goes: 0 pages, 1 products, 2 cart, 3 checkout (orders: always 3)
    depth = np.where(
        kind == 3,
        _choice(rng, (0.55, 0.35, 0.08, 0.02), n_s),
        _choice(rng, (0.25, 0.37, 0.26, 0.12), n_s),
    )
    depth[kind == 2] = np.maximum(depth[kind == 2], 1)
    is_order = kind == 0
    depth[is_order] = 3
    s_lines = np.append(lines, 0)[np.where(s_order >= 0, s_order, n_ord)]  # 0 unless an order
    counts = np.zeros((n_s, 6), dtype=np.int64)
    counts[:, _STEP_PAGE] = 1 + rng.poisson(np.where(kind == 2, 0.4, 1.2))
    counts[:, _STEP_SEARCH] = rng.poisson(0.3, n_s)
    counts[:, _STEP_PRODUCT] = np.where(depth >= 1, 1 + rng.poisson(1.5, n_s), 0) + s_lines
    p_social = np.where(channel == _CH_SOCIAL, 0.4, 0.05)
    counts[:, _STEP_SOCIAL] = (rng.random(n_s) < p_social).astype(np.int64)
    counts[:, _STEP_CART] = np.where(
        is_order, s_lines, np.where(depth >= 2, 1 + rng.poisson(0.4, n_s), 0)
    )
    counts[:, _STEP_CHECKOUT] = (depth >= 3).astype(np.int64)

    flat = counts.ravel()
    e_session = np.repeat(np.repeat(np.arange(n_s), 6), flat)
    e_step = np.repeat(np.tile(np.arange(6), n_s), flat)
    e_rank = _rank(flat)  # position within (session, step)
    n_e = len(e_session)
    dur = np.exp(np.log(_STEP_DURATION_MEDIAN[e_step]) + 0.8 * rng.standard_normal(n_e))
    dur = np.clip(dur, 1, 1800).astype(np.int64)
    per_session = counts.sum(axis=1)
    offset = _seg_cumsum_exclusive(dur, per_session)
    total = np.bincount(e_session, weights=dur, minlength=n_s).astype(np.int64)

    # orders: the session ends (checkout) shortly before the order; others start at the anchor
    lead = rng.integers(30, 600, n_s)
    start = np.where(is_order, anchor - total - lead, np.minimum(anchor, end - total))
    low = np.where(owner < n, created_t[np.minimum(owner, n - 1)], 0)
    start = np.maximum(start, low)
    e_t = start[e_session] + offset
    ceiling = np.where(is_order, anchor - 1, end)
    e_t = np.minimum(e_t, ceiling[e_session])

    # products: order sessions view and add the ordered products; others browse popular ones
    e_product = _popular_products(cat, rng, n_e)
    e_order = s_order[e_session]
    from_order = (e_order >= 0) & (
        (e_step == _STEP_CART) | ((e_step == _STEP_PRODUCT) & (e_rank < s_lines[e_session]))
    )
    item_start = _starts(lines)
    e_product[from_order] = product[item_start[e_order[from_order]] + e_rank[from_order]]
    has_product = (e_step == _STEP_PRODUCT) | (e_step == _STEP_CART) | (e_step == _STEP_SOCIAL)
    url = np.where(
        e_step == _STEP_PAGE,
        _choice(rng, STATIC_PAGE_WEIGHTS, n_e),
        np.where(
            e_step == _STEP_SEARCH,
            cat.url_search0 + rng.integers(0, len(SEARCH_TERMS), n_e),
            np.where(e_step == _STEP_CHECKOUT, cat.url_checkout, cat.url_product0 + e_product),
        ),
    )

    session_no = cnt.sessions + 1 + np.arange(n_s)
    cnt.sessions += n_s
    event_no = cnt.web_events + 1 + np.arange(n_e)
    cnt.web_events += n_e
    e_owner = owner[e_session]
    e_known = e_owner < n
    anon_no = np.where(
        e_known, first_contact + e_owner + 1, ctx.contacts_total + first_contact + e_owner - n + 1
    )
    web_events = _table(
        "web_events",
        [
            _ids("WE", event_no, 10),
            contact_ids.take(pa.array(np.where(e_known, e_owner, 0), mask=~e_known)),
            _ids("A", anon_no, 9),
            _ids("S", session_no, 10).take(pa.array(e_session)),
            _take(WEB_EVENT_TYPES, _SESSION_STEPS[e_step]),
            _ts(clock.start + e_t),
            _take(cat.ids, e_product, mask=~has_product),
            _take(cat.urls, url),
            pa.array(dur, pa.int64()),
            _take(CHANNELS, channel[e_session]),
        ],
    )

    # carts: every known session that added something; converted when the session is an order's
    cart_session = np.flatnonzero(known & (counts[:, _STEP_CART] > 0))
    step_start = _starts(flat).reshape(n_s, 6)
    first_add = step_start[cart_session, _STEP_CART]
    last_add = np.where(
        counts[cart_session, _STEP_CHECKOUT] > 0,
        step_start[cart_session, _STEP_CHECKOUT],
        first_add + counts[cart_session, _STEP_CART] - 1,
    )
    added_cents = np.bincount(
        e_session[e_step == _STEP_CART],
        weights=cat.price_cents[e_product[e_step == _STEP_CART]],
        minlength=n_s,
    )
    c_order = s_order[cart_session]
    converted = c_order >= 0
    value = np.where(converted, np.append(amount_cents, 0)[c_order], added_cents[cart_session])
    cart_no = cnt.carts + 1 + np.arange(len(cart_session))
    cnt.carts += len(cart_session)
    carts = _table(
        "carts",
        [
            _ids("K", cart_no, 9),
            contact_ids.take(pa.array(owner[cart_session])),
            _ts(clock.start + e_t[first_add]),
            _ts(clock.start + e_t[last_add]),
            _money(value),
            order_ids.take(pa.array(np.where(converted, c_order, 0), mask=~converted))
            if n_ord
            else pa.nulls(len(cart_session), pa.string()),
        ],
    )
    return web_events, carts


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _csv_ready(table: pa.Table) -> pa.Table:
    """Timestamps as ISO 8601 UTC strings ('2025-03-01T10:15:00Z'), vocabularies as strings."""
    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type):
            seconds = pc.cast(column, pa.timestamp("s"), safe=False)
            column = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ")
        elif pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


class _PartWriter:
    def __init__(self, out_dir: Path, fmt: str) -> None:
        self.out_dir = out_dir
        self.fmt = fmt
        self.parts = dict.fromkeys(ENTITIES, 0)
        self.rows = dict.fromkeys(ENTITIES, 0)

    def prepare(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for entity in ENTITIES:
            folder = self.out_dir / entity
            if folder.is_dir():
                shutil.rmtree(folder)
            for ext in FORMATS:
                (self.out_dir / f"{entity}.{ext}").unlink(missing_ok=True)
            folder.mkdir()

    def claim(self, entity: str, table: pa.Table) -> Path | None:
        """Reserve the next part path (in the calling thread, so numbering is deterministic)."""
        if table.num_rows == 0:
            return None
        part = self.parts[entity]
        self.parts[entity] += 1
        self.rows[entity] += table.num_rows
        return self.out_dir / entity / f"part-{part:05d}.{self.fmt}"

    def write(self, entity: str, table: pa.Table, path: Path) -> None:
        if self.fmt == "parquet":
            pq.write_table(
                table,
                path,
                compression="zstd",
                compression_level=1,
                # vocabulary columns arrive as dictionary arrays; unique ids are written plain
                use_dictionary=[f.name for f in table.schema if pa.types.is_dictionary(f.type)],
                store_schema=False,  # readers see plain strings, not dictionaries
                row_group_size=1 << 20,
            )
        else:
            pacsv.write_csv(
                _csv_ready(table), path, write_options=pacsv.WriteOptions(quoting_style="needed")
            )

    def finish(self) -> None:
        """Every entity exists, even with no rows."""
        for entity in ENTITIES:
            if self.parts[entity] == 0:
                empty = SCHEMAS[entity].empty_table()
                self.write(entity, empty, self.out_dir / entity / f"part-00000.{self.fmt}")
                self.parts[entity] = 1


def _parse_date(value: str | dt.date | dt.datetime | None) -> dt.date:
    if value is None:
        return dt.datetime.now(dt.UTC).date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def generate(
    out_dir: str | Path,
    contacts: int,
    seed: int = 42,
    as_of: str | dt.date | None = None,
    fmt: str = "parquet",
    years: float = 2,
    chunk_contacts: int = DEFAULT_CHUNK_CONTACTS,
) -> dict[str, int]:
    """Write a demo store into ``out_dir`` and return the number of rows per entity.

    Deterministic: the same arguments give byte-identical files. ``as_of`` (a date or
    ``YYYY-MM-DD``; default today in UTC) is the last day of the history: nothing is dated after
    its 23:59:59 UTC. ``years`` is the length of the history.
    """
    if contacts < 0:
        raise ValueError("contacts must be >= 0")
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
    if years <= 0:
        raise ValueError("years must be > 0")
    if chunk_contacts < 1:
        raise ValueError("chunk_contacts must be >= 1")
    as_of_date = _parse_date(as_of)
    out = Path(out_dir)
    clock = _Clock.build(as_of_date, years)
    catalogue_seed, campaign_seed = np.random.SeedSequence(seed, spawn_key=(0,)).spawn(2)
    catalogue = _catalogue(np.random.default_rng(catalogue_seed))
    campaigns = _campaigns(np.random.default_rng(campaign_seed), clock)
    ctx = _Context(
        clock=clock,
        catalogue=catalogue,
        campaigns=campaigns,
        contacts_total=contacts,
        seed=seed,
        as_of=as_of_date,
        contact_width=max(7, len(str(contacts))),
        order_width=max(8, len(str(contacts * 40))),
    )
    writer = _PartWriter(out, fmt)
    writer.prepare()

    # one background thread writes chunk k while chunk k + 1 is generated; at most two chunks in
    # flight keeps memory bounded
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending: list[Future[None]] = []

        def submit(tables: dict[str, pa.Table]) -> None:
            jobs = [(e, t, writer.claim(e, t)) for e, t in tables.items()]
            jobs = [(e, t, p) for e, t, p in jobs if p is not None]
            pending.append(pool.submit(lambda: [writer.write(e, t, p) for e, t, p in jobs]))
            while len(pending) > 1:
                pending.pop(0).result()

        submit({"products": catalogue.table})
        for chunk, first in enumerate(range(0, contacts, chunk_contacts)):
            size = min(chunk_contacts, contacts - first)
            submit(_generate_chunk(ctx, chunk, first, size))
        for future in pending:
            future.result()
    writer.finish()
    return {entity: writer.rows[entity] for entity in ENTITIES}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="segment-warehouse-generate",
        description="Write a deterministic, realistic demo store in the raw data contract.",
    )
    parser.add_argument("--contacts", type=int, default=20_000, help="number of contacts")
    parser.add_argument("--seed", type=int, default=42, help="random seed (same seed, same data)")
    parser.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=None,
        help="last day of the history, YYYY-MM-DD (default: today, UTC)",
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--format", choices=FORMATS, default="parquet", dest="fmt")
    parser.add_argument("--years", type=float, default=2, help="history length in years")
    parser.add_argument(
        "--chunk-contacts",
        type=int,
        default=DEFAULT_CHUNK_CONTACTS,
        help="contacts generated and written per part (bounds memory)",
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    try:
        counts = generate(
            args.out,
            contacts=args.contacts,
            seed=args.seed,
            as_of=args.as_of,
            fmt=args.fmt,
            years=args.years,
            chunk_contacts=args.chunk_contacts,
        )
    except ValueError as error:
        parser.error(str(error))
    elapsed = time.perf_counter() - began
    summary = ", ".join(f"{entity}={rows:,}" for entity, rows in counts.items())
    print(f"wrote {args.out} ({args.fmt}): {summary} in {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
