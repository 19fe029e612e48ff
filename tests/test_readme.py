"""The documentation documents every var and every raw-contract column the code knows, and its
links lead somewhere: README.md says what the project is and links each reader to a page of docs/
(the vars and the raw contract are in docs/analytics-engineer.md)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from conftest import ROOT

from segment_warehouse.landing import raw_contract

README = ROOT / "README.md"
ENGINEER = ROOT / "docs" / "analytics-engineer.md"
PAGES = (README, *sorted((ROOT / "docs").glob("*.md")))


def _section(title: str, page: Path = ENGINEER) -> str:
    """The section of ``page`` under the heading ``title`` (up to the next heading of its level)."""
    text = page.read_text()
    match = re.search(rf"^(#+) {re.escape(title)}\n(.*?)(?=^\1 |\Z)", text, re.M | re.S)
    assert match, f"{page.relative_to(ROOT)} has no section {title!r}"
    return match.group(2)


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def test_every_relative_link_leads_to_a_file_and_heading() -> None:
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#:\s]*)(?:#([^)\s]*))?\)", page.read_text()):
            path, anchor = target
            linked = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(ROOT)} links to {path or page.name}#{anchor}"
            assert linked.exists(), f"{where}: no such file"
            if anchor and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.*)$", linked.read_text(), re.M)
                assert anchor in {_anchor(heading) for heading in headings}, f"{where}: no heading"


def test_readme_sends_each_reader_to_a_page() -> None:
    text = README.read_text()
    for page in ("docs/analytics-engineer.md", "docs/bi.md", "docs/operator.md"):
        assert f"]({page}" in text, f"README.md does not link to {page}"
    assert len(text) < 8000, "README.md is for what everyone needs; the rest goes to docs/"


def test_every_var_is_in_the_vars_table() -> None:
    project_vars = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    table = set(re.findall(r"^\| `([a-z_]+)` \|", _section("Vars"), re.M))
    assert set(project_vars) - table == set(), "vars missing from README 'Vars'"
    assert table - set(project_vars) == set(), "README 'Vars' lists vars dbt_project.yml lacks"


def test_every_contract_column_is_in_the_contract_table() -> None:
    """The table of docs/analytics-engineer.md against dbt source `raw`, the one declaration of
    the contract (models/staging/raw/_raw__sources.yml): entities, columns, the required in bold."""
    contract = raw_contract()
    assert len(contract) == 8, contract
    rows = dict(re.findall(r"^\| `(\w+)`[^|]*\| (.*) \|$", _section("Raw data contract"), re.M))
    for entity in contract.values():
        assert entity.name in rows, f"the 'Raw data contract' table has no row for {entity.name}"
        row = rows[entity.name]
        documented = set(re.findall(r"\*{0,2}([a-z_]+)\*{0,2}(?:,| \(|$)", row))
        missing = set(entity.columns) - documented
        assert not missing, f"{entity.name}: {sorted(missing)} not in the 'Raw data contract' table"
        required = f"`{entity.name}` (required)" in _section("Raw data contract")
        assert required == entity.required, entity.name
        if entity.required:
            bold = set(re.findall(r"\*\*([a-z_]+)\*\*", row))
            assert bold == set(entity.required_columns), (entity.name, bold)
