"""Files written for readers that must never see half of them (BI, list imports)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path


def sql_literal(text: str) -> str:
    """`text` as a SQL string literal (quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


@contextlib.contextmanager
def replaced_together() -> Iterator[Callable[[Path], Path]]:
    """Yields `aside(final)`, the temporary path beside `final` to write it to.

    When the block ends without error every temporary file is renamed over its final one
    (os.replace, atomic within a folder), so a reader sees the old or the new file, never a
    partial one; if the block fails, the temporaries are removed and the old files stay.
    """
    written: list[tuple[Path, Path]] = []

    def aside(final: Path) -> Path:
        temporary = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        written.append((temporary, final))
        return temporary

    try:
        yield aside
    except BaseException:
        for temporary, _ in written:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, final in written:
        os.replace(temporary, final)
