"""`python -m activation sync [--destination NAME ...]` (also `segment-warehouse-activate`)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from activation.config import ConfigError, load_config
from activation.sync import sync_all


def default_warehouse() -> Path:
    return Path(os.environ.get("DBT_DUCKDB_PATH", "target/segment_warehouse.duckdb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="segment-warehouse-activate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync", help="sync destinations (every enabled one by default)")
    sync.add_argument("--destination", "-d", action="append", help="a destination (repeatable)")
    sync.add_argument("--config", type=Path, help="destinations file (default destinations.yml)")
    sync.add_argument(
        "--warehouse", type=Path, help="DuckDB warehouse (default $DBT_DUCKDB_PATH or target/...)"
    )
    check = commands.add_parser("check", help="validate destinations.yml and print it")
    check.add_argument("--config", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        config = load_config(args.config)
        if args.command == "check":
            for destination in config.destinations:
                state = "enabled" if destination.enabled else "disabled"
                print(f"{destination.name}: {destination.type}, {destination.mode}, {state}")
            return 0
        results, errors = sync_all(args.warehouse or default_warehouse(), config, args.destination)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for result in results:
        print(json.dumps(result.as_dict()))
    for name, error in errors.items():
        print(f"error: {name}: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
