"""Tests of the demo-store generator: contract, determinism, consistency and realism."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from segment_warehouse.demo_store import CITIES, ENTITIES, SCHEMAS, generate, main

AS_OF = "2025-06-30"
END_OF_AS_OF = "2025-06-30 23:59:59"

CONTRACT_COLUMNS = {
    "contacts": [
        "contact_id", "email", "first_name", "last_name", "created_at", "subscribed_at",
        "email_consent", "sms_consent", "unsubscribed_at", "birth_date", "gender", "city",
        "region", "country_code", "postal_code", "latitude", "longitude", "acquisition_source",
    ],
    "orders": [
        "order_id", "contact_id", "ordered_at", "status", "currency", "amount_net",
        "amount_gross", "discount_code",
    ],
    "refunds": ["refund_id", "order_id", "contact_id", "refunded_at", "amount_net"],
    "order_items": ["order_id", "line_number", "product_id", "quantity", "unit_price_net"],
    "products": ["product_id", "product_name", "category", "price_net"],
    "carts": ["cart_id", "contact_id", "created_at", "updated_at", "value_net", "order_id"],
    "web_events": [
        "event_id", "contact_id", "anonymous_id", "session_id", "event_type", "occurred_at",
        "product_id", "page_url", "duration_seconds", "channel",
    ],
    "email_events": ["event_id", "contact_id", "campaign_id", "event_type", "occurred_at"],
}  # fmt: skip

TIMESTAMP_COLUMNS = {
    "contacts": ["created_at", "subscribed_at", "unsubscribed_at"],
    "orders": ["ordered_at"],
    "refunds": ["refunded_at"],
    "carts": ["created_at", "updated_at"],
    "web_events": ["occurred_at"],
    "email_events": ["occurred_at"],
}


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.*"))}


def _read_parquet(folder: Path, entity: str) -> pa.Table:
    parts = sorted((folder / entity).glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("store")
    counts = generate(out, contacts=6000, seed=7, as_of=AS_OF, fmt="parquet", chunk_contacts=2500)
    return out, counts


@pytest.fixture(scope="module")
def db(store: tuple[Path, dict[str, int]]) -> duckdb.DuckDBPyConnection:
    out, _ = store
    con = duckdb.connect()
    for entity in ENTITIES:
        con.execute(
            f"create view {entity} as select * from read_parquet('{out / entity}/*.parquet')"
        )
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchall()[0][0]


# ---- contract ---------------------------------------------------------------------------------


def test_schemas_match_the_contract() -> None:
    assert set(SCHEMAS) == set(CONTRACT_COLUMNS)
    for entity, columns in CONTRACT_COLUMNS.items():
        assert SCHEMAS[entity].names == columns


def test_parquet_layout_columns_and_types(store: tuple[Path, dict[str, int]]) -> None:
    out, counts = store
    assert sorted(p.name for p in out.iterdir()) == sorted(ENTITIES)
    for entity in ENTITIES:
        parts = sorted(p.name for p in (out / entity).iterdir())
        assert parts and all(re.fullmatch(r"part-\d{5}\.parquet", p) for p in parts)
        table = _read_parquet(out, entity)
        assert table.column_names == CONTRACT_COLUMNS[entity]
        assert table.schema == SCHEMAS[entity]  # plain strings, not dictionaries
        assert table.num_rows == counts[entity] > 0
    # three chunks of contacts -> three parts
    assert len(list((out / "contacts").iterdir())) == 3
    contacts = _read_parquet(out, "contacts")
    assert contacts["email_consent"].type == pa.bool_()
    assert contacts["birth_date"].type == pa.date32()
    assert pa.types.is_timestamp(contacts["created_at"].type)
    orders = _read_parquet(out, "orders")
    assert orders["amount_net"].type == pa.float64()
    ids = orders["order_id"].to_pylist()
    assert ids[0] == "O00000001" and all(re.fullmatch(r"O\d{8}", i) for i in ids[:1000])
    assert re.fullmatch(r"C\d{7}", contacts["contact_id"][0].as_py())


def test_csv_columns_and_timestamp_format(tmp_path: Path) -> None:
    counts = generate(tmp_path, contacts=400, seed=3, as_of=AS_OF, fmt="csv")
    iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    for entity in ENTITIES:
        parts = sorted((tmp_path / entity).glob("part-*.csv"))
        assert parts
        header = parts[0].read_text().splitlines()[0]
        assert [h.strip('"') for h in header.split(",")] == CONTRACT_COLUMNS[entity]
        options = pacsv.ConvertOptions(
            column_types={c: pa.string() for c in CONTRACT_COLUMNS[entity]}
        )
        table = pa.concat_tables([pacsv.read_csv(p, convert_options=options) for p in parts])
        assert table.num_rows == counts[entity]
        for column in TIMESTAMP_COLUMNS.get(entity, []):
            values = [v for v in table[column].to_pylist() if v]
            assert values and all(iso.fullmatch(v) for v in values), (entity, column)
            assert max(values) <= "2025-06-30T23:59:59Z"
    contacts = pacsv.read_csv(tmp_path / "contacts" / "part-00000.csv")
    assert contacts["email_consent"].type == pa.bool_()
    assert contacts["birth_date"].type == pa.date32()
    postal = pacsv.read_csv(
        tmp_path / "contacts" / "part-00000.csv",
        convert_options=pacsv.ConvertOptions(column_types={"postal_code": pa.string()}),
    )["postal_code"].to_pylist()
    assert "00184" in postal  # Roma keeps its leading zero
    assert not any(tmp_path.rglob("*.parquet"))


def test_determinism_same_seed_same_bytes(tmp_path: Path) -> None:
    args = dict(contacts=1500, seed=11, as_of=AS_OF, chunk_contacts=600)
    generate(tmp_path / "a", **args)
    generate(tmp_path / "b", **args)
    generate(tmp_path / "c", **{**args, "seed": 12})
    a, b, c = (_files(tmp_path / name) for name in "abc")
    assert a == b
    assert a.keys() == c.keys()
    for entity in ("contacts", "orders", "web_events", "email_events"):
        assert a[f"{entity}/part-00000.parquet"] != c[f"{entity}/part-00000.parquet"]
    generate(tmp_path / "d", fmt="csv", **args)
    generate(tmp_path / "e", fmt="csv", **args)
    assert _files(tmp_path / "d") == _files(tmp_path / "e")


def test_rerun_replaces_previous_parts(tmp_path: Path) -> None:
    generate(tmp_path, contacts=900, seed=1, as_of=AS_OF, chunk_contacts=300)
    assert len(list((tmp_path / "contacts").iterdir())) == 3
    (tmp_path / "notes.txt").write_text("kept")
    counts = generate(tmp_path, contacts=200, seed=1, as_of=AS_OF, chunk_contacts=300)
    assert len(list((tmp_path / "contacts").iterdir())) == 1
    assert _read_parquet(tmp_path, "contacts").num_rows == counts["contacts"] == 200
    assert (tmp_path / "notes.txt").read_text() == "kept"


def test_empty_store_still_has_every_entity(tmp_path: Path) -> None:
    counts = generate(tmp_path, contacts=0, seed=1, as_of=AS_OF)
    assert counts["contacts"] == 0 and counts["products"] > 0
    for entity in ENTITIES:
        assert _read_parquet(tmp_path, entity).schema == SCHEMAS[entity]


def test_invalid_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, contacts=10, seed=1, as_of=AS_OF, fmt="json")
    with pytest.raises(ValueError):
        generate(tmp_path, contacts=-1, seed=1, as_of=AS_OF)


# ---- time -------------------------------------------------------------------------------------


def test_nothing_after_the_as_of_date(db: duckdb.DuckDBPyConnection) -> None:
    for entity, columns in TIMESTAMP_COLUMNS.items():
        for column in columns:
            latest = _one(db, f"select max({column}) from {entity}")
            assert latest <= dt.datetime.fromisoformat(END_OF_AS_OF), (entity, column)
    # the history runs up to the as-of date and starts about two years before it
    assert _one(db, "select max(ordered_at) from orders") >= dt.datetime(2025, 6, 29)
    first = _one(db, "select min(created_at) from contacts")
    assert dt.datetime(2023, 6, 25) <= first <= dt.datetime(2023, 9, 1)


def test_timeline_is_consistent(db: duckdb.DuckDBPyConnection) -> None:
    checks = {
        "subscribed before created": """select count(*) from contacts
            where subscribed_at < created_at or unsubscribed_at < subscribed_at""",
        "order before created": """select count(*) from orders join contacts using (contact_id)
            where ordered_at <= created_at""",
        "refund before its order": """select count(*) from refunds r join orders o using (order_id)
            where r.refunded_at < o.ordered_at""",
        "cart updated before created": "select count(*) from carts where updated_at < created_at",
        "email before subscription": """select count(*) from email_events
            join contacts using (contact_id)
            where subscribed_at is null or occurred_at < subscribed_at""",
        "email after unsubscribing": """select count(*) from email_events
            join contacts using (contact_id) where occurred_at > unsubscribed_at""",
        "unsubscribed_at differs from the events": """select count(*) from contacts
            full join (
                select contact_id, min(occurred_at) as stopped_at from email_events
                where event_type in ('unsubscribe', 'complaint') group by 1
            ) using (contact_id)
            where unsubscribed_at is distinct from stopped_at""",
        "unsubscribed with consent": """select count(*) from contacts
            where unsubscribed_at is not null and email_consent""",
    }
    for name, sql in checks.items():
        assert _one(db, sql) == 0, name
    assert _one(db, "select count(*) from contacts where unsubscribed_at is not null") > 0


# ---- integrity --------------------------------------------------------------------------------


def test_keys_are_unique(db: duckdb.DuckDBPyConnection) -> None:
    for entity, key in [
        ("contacts", "contact_id"),
        ("contacts", "email"),
        ("orders", "order_id"),
        ("refunds", "refund_id"),
        ("products", "product_id"),
        ("carts", "cart_id"),
        ("web_events", "event_id"),
        ("email_events", "event_id"),
        ("order_items", "order_id || '-' || line_number"),
    ]:
        assert _one(db, f"select count(*) - count(distinct {key}) from {entity}") == 0, entity


def test_referential_integrity(db: duckdb.DuckDBPyConnection) -> None:
    checks = {
        "orders -> contacts": "select count(*) from orders anti join contacts using (contact_id)",
        "items -> orders": "select count(*) from order_items anti join orders using (order_id)",
        "items -> products": """select count(*) from order_items
            anti join products using (product_id)""",
        "orders without items": """select count(*) from orders
            anti join order_items using (order_id)""",
        "refunds -> completed order of the same contact": """select count(*) from refunds r
            anti join orders o on r.order_id = o.order_id and r.contact_id = o.contact_id
            and o.status = 'completed'""",
        "carts -> order of the same contact": """select count(*) from carts c
            anti join orders o on c.order_id = o.order_id and c.contact_id = o.contact_id
            where c.order_id is not null""",
        "carts -> contacts": "select count(*) from carts anti join contacts using (contact_id)",
        "web -> contacts": """select count(*) from web_events anti join contacts using (contact_id)
            where web_events.contact_id is not null""",
        "web -> products": """select count(*) from web_events anti join products using (product_id)
            where web_events.product_id is not null""",
        "email -> contacts": """select count(*) from email_events
            anti join contacts using (contact_id)""",
    }
    for name, sql in checks.items():
        assert _one(db, sql) == 0, name


def test_money_is_consistent(db: duckdb.DuckDBPyConnection) -> None:
    mismatched = """select count(*) from orders o join (
            select order_id, sum(quantity * unit_price_net) as total from order_items group by 1
        ) i using (order_id) where abs(o.amount_net - i.total) > 0.005"""
    assert _one(db, mismatched) == 0
    assert _one(db, "select count(*) from orders where amount_net <= 0") == 0
    assert _one(db, "select count(*) from orders where amount_gross <= amount_net") == 0
    assert _one(db, "select count(*) from orders where amount_net <> round(amount_net, 2)") == 0
    assert _one(db, "select list(distinct currency) from orders") == ["EUR"]
    statuses = _one(db, "select list(distinct status order by status) from orders")
    assert statuses == ["cancelled", "completed", "pending"]
    refunds = """select count(*) from refunds r join orders o using (order_id)
        where r.amount_net <= 0 or r.amount_net > o.amount_net"""
    assert _one(db, refunds) == 0
    partial = """select avg((r.amount_net < o.amount_net)::int) from refunds r
        join orders o using (order_id)"""
    assert 0.2 < _one(db, partial) < 0.8
    carts = """select count(*) from carts c join orders o using (order_id)
        where c.value_net <> o.amount_net"""
    assert _one(db, carts) == 0


# ---- realism ----------------------------------------------------------------------------------


def test_purchase_frequency_is_heavy_tailed(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute(
        """select count(o.order_id) from contacts c
           left join orders o using (contact_id) group by c.contact_id"""
    ).fetchall()
    orders_per_contact = np.array([r[0] for r in rows])
    buyers = orders_per_contact[orders_per_contact > 0]
    non_buyer_share = 1 - len(buyers) / len(orders_per_contact)
    assert 0.35 <= non_buyer_share <= 0.6
    frequencies = np.bincount(buyers)
    assert frequencies.argmax() == 1  # the most common number of orders is one
    assert 0.35 <= (buyers == 1).mean() <= 0.65
    assert buyers.max() >= 50 * np.median(buyers)
    assert 5 <= orders_per_contact.mean() <= 16  # about ten orders per contact


def test_order_statuses_refunds_and_discounts(db: duckdb.DuckDBPyConnection) -> None:
    share = dict(
        db.execute(
            "select status, count(*) / sum(count(*)) over () from orders group by 1"
        ).fetchall()
    )
    assert 0.04 <= share["cancelled"] <= 0.06
    assert 0.01 <= share["pending"] <= 0.035
    refund_rate = _one(
        db,
        """select (select count(*) from refunds)
           / (select count(*) from orders where status = 'completed')""",
    )
    assert 0.02 <= refund_rate <= 0.04
    discounted = _one(db, "select avg((discount_code is not null)::int) from orders")
    assert 0.03 <= discounted <= 0.3


def test_order_values_are_log_normal_and_seasonal(db: duckdb.DuckDBPyConnection) -> None:
    amounts = np.array([r[0] for r in db.execute("select amount_net from orders").fetchall()])
    logs = np.log(amounts)
    assert 30 <= np.median(amounts) <= 80
    assert np.mean(amounts) > np.median(amounts)  # right-skewed
    skew = np.mean((logs - logs.mean()) ** 3) / logs.std() ** 3
    assert abs(skew) < 0.5  # roughly symmetric in log space
    per_day = dict(
        db.execute(
            """select month(ordered_at) in (11, 12), count(*) / count(distinct ordered_at::date)
               from orders where ordered_at between '2024-09-01' and '2024-12-31' group by 1"""
        ).fetchall()
    )
    assert per_day[True] > 1.2 * per_day[False]  # November-December peak


def test_email_engagement_is_heterogeneous(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute(
        """select count(*) filter (where event_type = 'open')
                  / count(*) filter (where event_type = 'delivered')
           from email_events group by contact_id
           having count(*) filter (where event_type = 'delivered') >= 5"""
    ).fetchall()
    open_rates = np.array([r[0] for r in rows])
    assert len(open_rates) > 500
    assert np.quantile(open_rates, 0.1) <= 0.05  # dormant contacts
    assert np.quantile(open_rates, 0.9) >= 0.5  # engaged contacts
    assert (open_rates >= 0.8).mean() > 0.03  # some super-active ones
    assert open_rates.std() > 0.15
    types = dict(db.execute("select event_type, count(*) from email_events group by 1").fetchall())
    assert set(types) == {
        "sent",
        "delivered",
        "open",
        "click",
        "bounce",
        "unsubscribe",
        "complaint",
    }
    assert types["bounce"] < 0.02 * types["sent"]  # hard bounces are rare
    assert types["click"] < types["open"] < types["delivered"] <= types["sent"]


def test_web_sessions_and_carts(db: duckdb.DuckDBPyConnection) -> None:
    types = {r[0] for r in db.execute("select distinct event_type from web_events").fetchall()}
    assert types == {
        "page_view",
        "product_view",
        "add_to_cart",
        "checkout_started",
        "search",
        "social_interaction",
    }
    channels = {r[0] for r in db.execute("select distinct channel from web_events").fetchall()}
    assert channels == {"organic", "paid_search", "social", "email", "direct"}
    assert _one(db, "select count(*) from web_events where anonymous_id is null") == 0
    assert _one(db, "select count(*) from web_events where contact_id is null") > 0
    assert _one(db, "select min(duration_seconds) from web_events") >= 1
    product_events = """select count(*) from web_events
        where (event_type in ('product_view', 'add_to_cart')) <> (product_id is not null)
          and event_type <> 'social_interaction'"""
    assert _one(db, product_events) == 0
    converted, abandoned = db.execute(
        "select count(order_id), count(*) - count(order_id) from carts"
    ).fetchall()[0]
    assert converted > 0 and abandoned > 0
    # a converted cart comes from a session that checked out before the order
    before = """select count(*) from carts c join orders o using (order_id)
        where c.updated_at >= o.ordered_at"""
    assert _one(db, before) == 0


def test_demographics(db: duckdb.DuckDBPyConnection) -> None:
    missing = db.execute(
        """select avg((birth_date is null)::int), avg((gender is null)::int),
                  avg((city is null)::int) from contacts"""
    ).fetchall()[0]
    assert all(0.08 <= share <= 0.22 for share in missing)
    ages = _one(
        db,
        f"""select [min(age), max(age)] from (
               select date_diff('year', birth_date, date '{AS_OF}')
                      - (strftime(birth_date, '%m%d') > '0630')::int as age
               from contacts where birth_date is not null)""",
    )
    assert ages[0] >= 18 and ages[1] <= 85
    genders = {r[0] for r in db.execute("select distinct gender from contacts").fetchall()}
    assert genders == {"female", "male", "non_binary", "unknown", None}
    known = {c[0]: c for c in CITIES}
    rows = db.execute(
        """select city, region, country_code, postal_code, latitude, longitude
           from contacts where city is not null"""
    ).fetchall()
    for city, region, country, postal, lat, lon in rows:
        ref = known[city]
        assert (region, country, postal) == (ref[1], ref[2], ref[5])
        assert abs(lat - ref[3]) < 0.1 and abs(lon - ref[4]) < 0.1
    assert _one(db, "select avg((country_code = 'IT')::int) from contacts") > 0.6
    subscribers = db.execute(
        """select avg((subscribed_at is not null)::int),
                  avg(email_consent::int) filter (where subscribed_at is not null),
                  avg(sms_consent::int) from contacts"""
    ).fetchall()[0]
    assert subscribers[0] > 0.7 and subscribers[1] > 0.7 and subscribers[2] < 0.5


# ---- CLI --------------------------------------------------------------------------------------


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    args = ["--contacts", "300", "--seed", "5", "--as-of", AS_OF, "--out", str(out)]
    assert main([*args, "--format", "csv", "--years", "1"]) == 0
    line = capsys.readouterr().out.strip()
    assert "contacts=300" in line and "orders=" in line and line.endswith("s")
    assert (out / "orders" / "part-00000.csv").exists()
    strings = pacsv.ConvertOptions(column_types={"created_at": pa.string()})
    created = pacsv.read_csv(out / "contacts" / "part-00000.csv", convert_options=strings)
    assert min(created["created_at"].to_pylist()) >= "2024-07-01"  # one year of history
    with pytest.raises(SystemExit):
        main([*args, "--format", "xml"])
    with pytest.raises(SystemExit):
        main([*args, "--as-of", "30/06/2025"])


def test_cli_default_as_of_is_today(tmp_path: Path) -> None:
    assert main(["--contacts", "50", "--out", str(tmp_path)]) == 0
    today = dt.datetime.now(dt.UTC).date()
    latest = max(
        pq.read_table(tmp_path / "contacts" / "part-00000.parquet")["created_at"].to_pylist()
    )
    assert latest.date() <= today
    assert latest.date() >= today - dt.timedelta(days=400)
