"""dbt exposures: each activation destination of destinations.yml is an exposure of the dbt
project (so dbt docs' lineage shows what each tool receives), with its type and the mart it reads
(activation_members for segment destinations, activation_automation_steps for automation steps),
and no exposure names a destination that is gone."""

from __future__ import annotations

from pathlib import Path

import yaml

from activation.config import AUTOMATION_TYPES, load_config

ROOT = Path(__file__).resolve().parents[1]
EXPOSURES = ROOT / "models" / "marts" / "activation" / "_activation__exposures.yml"


def test_every_destination_is_an_exposure_of_the_membership() -> None:
    exposures = yaml.safe_load(EXPOSURES.read_text())["exposures"]
    by_destination = {exposure["meta"]["destination"]: exposure for exposure in exposures}
    assert len(by_destination) == len(exposures)
    config = load_config(ROOT / "destinations.yml")
    destinations = {destination.name: destination for destination in config.destinations}
    assert sorted(by_destination) == sorted(destinations)
    for name, exposure in by_destination.items():
        assert exposure["name"] == f"activation_{name}"
        assert exposure["type"] == "application"
        assert exposure["meta"]["destination_type"] == destinations[name].type
        mart = (
            "activation_automation_steps"
            if destinations[name].type in AUTOMATION_TYPES
            else "activation_members"
        )
        assert exposure["depends_on"] == [f"ref('{mart}')"], name
        assert exposure["description"].strip() and exposure["owner"]["name"]
