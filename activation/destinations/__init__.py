"""Destination adapters: open() reaches the destination (nothing is written to the ledger if it
cannot), deliver(run) sends the pending rows and acknowledges what the destination accepted,
close() releases it."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from activation.config import Destination
from activation.ledger import SyncRun


class DestinationError(RuntimeError):
    """A destination could not be reached or refused the sync as a whole."""


def make_folder(destination: Destination, folder: Path) -> None:
    """Create a file destination's folder; a DestinationError naming both when it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DestinationError(
            f"destination {destination.name!r}: cannot create {folder}: {error}"
        ) from error


class Adapter(Protocol):
    # Where the rows go (path, server and table, URL and lists), without secrets: when it
    # changes, the destination's acknowledged state no longer describes it.
    target: str

    def open(self) -> None: ...

    def deliver(self, run: SyncRun) -> None: ...

    def close(self) -> None: ...


def make_adapter(destination: Destination) -> Adapter:
    """The adapter of a destination; resolves its secrets (ConfigError when one is missing)."""
    if destination.type in ("files", "ad_audience"):
        from activation.destinations.files import FilesAdapter

        return FilesAdapter(destination)
    if destination.type == "postgres":
        from activation.destinations.postgres import PostgresAdapter

        return PostgresAdapter(destination)
    if destination.type == "http":
        from activation.destinations.http import HttpAdapter

        return HttpAdapter(destination)
    if destination.type == "automation_events":
        from activation.destinations.automation import AutomationEventsAdapter

        return AutomationEventsAdapter(destination)
    if destination.type == "automation_lists":
        from activation.destinations.automation import AutomationListsAdapter

        return AutomationListsAdapter(destination)
    raise DestinationError(f"destination {destination.name!r}: unknown type {destination.type!r}")
