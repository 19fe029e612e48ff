"""The project's dbt-score rules (segment_warehouse/dbt_rules), each on a model that keeps the
convention and one that breaks it. `make lint` runs them over the whole project."""

from __future__ import annotations

from typing import Any

from dbt_score import Model, Source

from segment_warehouse.dbt_rules import conventions


def _model(path: str, name: str, nodes: list[str] | None = None, **values: Any) -> Model:
    node = {
        "unique_id": f"model.segment_warehouse.{name}",
        "name": name,
        "description": "d",
        "original_file_path": path,
        "config": values.pop("config", {}),
        "meta": values.pop("meta", {}),
        "columns": {},
        "package_name": "segment_warehouse",
        "database": "db",
        "schema": "main",
        "raw_code": "select 1",
        "language": values.pop("language", "sql"),
        "access": "protected",
        "alias": name,
        "tags": [],
        "depends_on": {"nodes": nodes or [], "macros": []},
        "constraints": [],
    }
    return Model.from_node(node, [])


def _violates(rule: Any, evaluable: Any) -> bool:
    return rule().evaluate(evaluable) is not None


def test_root_models_read_sources() -> None:
    rule = conventions.root_models_read_sources
    path = "models/staging/shop/stg_shop__orders.sql"
    assert not _violates(rule, _model(path, "stg_shop__orders", ["source.segment_warehouse.a.b"]))
    assert not _violates(rule, _model(path, "stg_shop__orders", ["model.segment_warehouse.x"]))
    assert _violates(rule, _model(path, "stg_shop__orders", ["seed.segment_warehouse.rates"]))
    assert _violates(rule, _model(path, "stg_shop__orders", []))
    assert _violates(rule, _model(path, "stg_shop__orders", [], meta={"reads_files": "why"}))


def test_names_follow_the_layer() -> None:
    rule = conventions.name_follows_layer
    assert not _violates(
        rule, _model("models/staging/a/stg_online_retail__orders.sql", "stg_online_retail__orders")
    )  # noqa: E501
    assert _violates(rule, _model("models/staging/a/orders.sql", "orders"))
    assert _violates(rule, _model("models/staging/a/stg_orders.sql", "stg_orders"))
    assert not _violates(rule, _model("models/intermediate/int_a_b.sql", "int_a_b"))
    assert _violates(rule, _model("models/intermediate/a_b.sql", "a_b"))
    assert not _violates(rule, _model("models/marts/x/customer_rfm.sql", "customer_rfm"))
    assert _violates(rule, _model("models/marts/x/int_rfm.sql", "int_rfm"))


def test_marts_have_an_enforced_contract() -> None:
    rule = conventions.mart_has_enforced_contract
    enforced = {"contract": {"enforced": True}}
    assert not _violates(rule, _model("models/marts/x/a.sql", "a", config=enforced))
    assert _violates(rule, _model("models/marts/x/a.sql", "a", config={}))
    assert not _violates(rule, _model("models/marts/x/a.py", "a", config={}, language="python"))
    assert not _violates(rule, _model("models/intermediate/int_a.sql", "int_a", config={}))


def test_sources_are_described() -> None:
    def source(description: str, column_description: str) -> Source:
        return Source.from_node(
            {
                "unique_id": "source.segment_warehouse.shop.orders",
                "name": "orders",
                "description": description,
                "source_name": "shop",
                "source_description": "",
                "original_file_path": "models/staging/shop/_shop__sources.yml",
                "config": {},
                "meta": {},
                "source_meta": {},
                "columns": {
                    "id": {
                        "name": "id",
                        "description": column_description,
                        "meta": {},
                        "constraints": [],
                        "tags": [],
                    }
                },
                "package_name": "segment_warehouse",
                "database": "db",
                "schema": "shop",
                "identifier": "orders",
                "loader": "",
                "freshness": None,
                "patch_path": None,
                "tags": [],
            },
            [],
        )

    rule = conventions.source_is_described
    assert not _violates(rule, source("the orders", "the key"))
    assert _violates(rule, source("", "the key"))
    assert _violates(rule, source("the orders", ""))
