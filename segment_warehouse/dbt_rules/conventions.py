"""The conventions of this dbt project, as dbt-score rules (`make lint` runs them; the namespace is
set in pyproject.toml, `[tool.dbt-score]`).

- Root models read sources: a model that reads no other model reads at least one `source()`
  (no model reads files: segment-warehouse-land lands them first).
- Names follow the layer: `stg_<source>__<entity>` (and the `base_` / `ingest_` models beside
  them) under staging/, `int_` under intermediate/, no layer prefix under marts/.
- Every source table and every column of a source is described (built-in rules describe models
  and their columns).
- Marts have an enforced contract (SQL marts: dbt enforces contracts on SQL models only).
"""

import re

from dbt_score import Model, RuleViolation, Source, rule

_STAGING_NAME = re.compile(r"^(stg|base|ingest)_[a-z0-9]+(_[a-z0-9]+)*__[a-z0-9_]+$")


def _layer(model: Model) -> str:
    """staging / intermediate / marts: the first folder under models/."""
    parts = model.original_file_path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "models" else ""


@rule
def root_models_read_sources(model: Model) -> RuleViolation | None:
    """A model that reads no other model reads a source (not files from Jinja)."""
    nodes = model.depends_on.get("nodes", [])
    if any(node.startswith(("model.", "snapshot.")) for node in nodes):
        return None
    if any(node.startswith("source.") for node in nodes):
        return None
    return RuleViolation(
        message="Root model reads no source(): declare the table it reads as a dbt source."
    )


@rule
def name_follows_layer(model: Model) -> RuleViolation | None:
    """Names by layer: stg_<source>__<entity> in staging, int_ in intermediate, none in marts."""
    layer, name = _layer(model), model.name
    if layer == "staging" and not _STAGING_NAME.match(name):
        return RuleViolation(message=f"{name}: staging models are stg_<source>__<entity>.")
    if layer == "intermediate" and not name.startswith("int_"):
        return RuleViolation(message=f"{name}: intermediate models start with int_.")
    if layer == "marts" and name.startswith(("stg_", "int_", "base_", "ingest_")):
        return RuleViolation(message=f"{name}: marts carry no layer prefix.")
    return None


@rule
def mart_has_enforced_contract(model: Model) -> RuleViolation | None:
    """Every SQL mart has an enforced contract (its columns and types are part of the product)."""
    if _layer(model) != "marts" or model.language != "sql":
        return None
    if not model.config.get("contract", {}).get("enforced"):
        return RuleViolation(message="Mart without an enforced contract.")
    return None


@rule
def source_is_described(source: Source) -> RuleViolation | None:
    """A source table and each of its columns are described."""
    if not source.description:
        return RuleViolation(message="Source table lacks a description.")
    undescribed = [column.name for column in source.columns if not column.description]
    if undescribed:
        return RuleViolation(message=f"Columns lack a description: {', '.join(undescribed)}.")
    return None
