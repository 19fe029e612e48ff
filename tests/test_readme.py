"""README.md documents every var and every raw-contract column the code knows."""

from __future__ import annotations

import re

import yaml
from conftest import ROOT

README = (ROOT / "README.md").read_text()


def _section(title: str) -> str:
    """The README section under the heading ``title`` (up to the next heading of its level)."""
    match = re.search(rf"^(#+) {re.escape(title)}\n(.*?)(?=^\1 |\Z)", README, re.M | re.S)
    assert match, f"README.md has no section {title!r}"
    return match.group(2)


def test_every_var_is_in_the_vars_table() -> None:
    project_vars = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    table = set(re.findall(r"^\| `([a-z_]+)` \|", _section("Vars"), re.M))
    assert set(project_vars) - table == set(), "vars missing from README 'Vars'"
    assert table - set(project_vars) == set(), "README 'Vars' lists vars dbt_project.yml lacks"


def test_every_contract_column_is_in_the_contract_table() -> None:
    macro = (ROOT / "macros" / "raw_contract.sql").read_text()
    body = macro[macro.index("{% macro raw_contract()") : macro.index("{%- endmacro %}")]
    entities = re.findall(r"'(\w+)': \{\s*'required'.*?'columns': \[(.*?)\]", body, re.S)
    assert len(entities) == 8, entities
    rows = dict(re.findall(r"^\| `(\w+)`[^|]*\| (.*) \|$", _section("Raw data contract"), re.M))
    for entity, columns in entities:
        assert entity in rows, f"README 'Raw data contract' has no row for {entity}"
        documented = set(re.findall(r"\*{0,2}([a-z_]+)\*{0,2}(?:,| \(|$)", rows[entity]))
        missing = set(re.findall(r"'(\w+)'", columns)) - documented
        assert not missing, f"{entity}: {sorted(missing)} not in README 'Raw data contract'"
