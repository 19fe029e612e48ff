"""A long-lived process that runs the test suite's builds (segment-warehouse-land, then dbt) in
process, one after the other, so that each build does not pay again for starting Python and
importing dbt, DuckDB, pandas, SciPy and scikit-learn (about 10 s of CPU per build on 2 cores).

conftest.run_build starts it (python tests/dbt_worker.py, from the repository root) and writes one
JSON request per line on its stdin: {"env": {...}, "steps": [["land"|"dbt", [args...]], ...]}.
For each request it sets os.environ to `env`, runs the steps until one fails, and writes one JSON
line back: {"returncode": int, "output": str}. `output` is what the steps printed (stdout and
stderr, file descriptors 1 and 2), as the commands `segment-warehouse-land` and `dbt` print it;
`returncode` is the exit code they would give (dbt: 0 success, 1 a node failed, 2 an error
before or outside the nodes).

dbt runs through dbtRunner, its documented programmatic entry point, which supports one
invocation after another in a process. dbt-duckdb keeps its DuckDB connection between
invocations; it is closed after each build so that the test process can open the file.

Each build has its own target folder, so dbt would parse the whole project every time (about 8 s
of CPU). The worker keeps the last partial-parse file (partial_parse.msgpack) per `--vars` value
in a folder shared by the workers and puts it in a new target folder first: dbt itself decides
whether it may use it (same dbt version, project files, vars, environment variables the project
reads and profile) and parses everything again when not.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

PARSE_CACHE = Path(tempfile.gettempdir()) / "segment-tests-partial-parse"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def _close_duckdb() -> None:
    """Closes the DuckDB database dbt-duckdb keeps open after an invocation (it closes it only at
    exit), so that the file is free for the tests and the next build."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if environment is not None:
            environment.close()


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args[:-1] else None


def _cached_parse(args: list[str]) -> tuple[Path, Path] | None:
    """(the build's partial-parse file, the cached one for its --vars), when it has a target."""
    target = _option(args, "--target-path")
    if target is None:
        return None
    key = hashlib.sha256((_option(args, "--vars") or "").encode()).hexdigest()[:16]
    return Path(target) / PARTIAL_PARSE_FILE, PARSE_CACHE / f"{key}.msgpack"


def _run_dbt(args: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    parse_files = _cached_parse(args)
    if parse_files is not None:
        own, cached = parse_files
        if not own.exists() and cached.exists():
            own.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(cached, own)
    try:
        result = dbtRunner().invoke(args)
    finally:
        _close_duckdb()
    if parse_files is not None and parse_files[0].exists():
        own, cached = parse_files
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}")
        shutil.copyfile(own, partial)
        os.replace(partial, cached)
    if result.success:
        return 0
    if result.exception is not None:
        print(f"dbt: {type(result.exception).__name__}: {result.exception}", file=sys.stderr)
        return 2
    return 1


def _run_land(args: list[str]) -> int:
    from segment_warehouse.landing import main

    try:
        return main(args)
    except SystemExit as error:  # argparse
        return error.code if isinstance(error.code, int) else 2


STEPS = {"dbt": _run_dbt, "land": _run_land}


def _run_request(request: dict, capture_fd: int) -> dict:
    os.environ.clear()
    os.environ.update(request["env"])
    os.lseek(capture_fd, 0, os.SEEK_SET)
    os.ftruncate(capture_fd, 0)
    saved = (os.dup(1), os.dup(2))
    os.dup2(capture_fd, 1)
    os.dup2(capture_fd, 2)
    returncode = 0
    try:
        for name, args in request["steps"]:
            try:
                returncode = STEPS[name](list(args))
            except BaseException:  # noqa: BLE001 - reported as the command would
                traceback.print_exc()
                returncode = 2
            if returncode != 0:
                break
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
    os.lseek(capture_fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(capture_fd, 1 << 20):
        chunks.append(chunk)
    return {"returncode": returncode, "output": b"".join(chunks).decode("utf-8", "replace")}


def main() -> None:
    # Answers go out on a copy of the original stdout; fd 1 and 2 are the capture file during a
    # request. Import dbt and the models' libraries once, before the first request.
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever is printed between requests goes to stderr, not into an answer
    import dbt.cli.main  # noqa: F401
    import sklearn.linear_model  # noqa: F401

    import segment_warehouse.predictive  # noqa: F401
    import segment_warehouse.propensity  # noqa: F401

    with tempfile.TemporaryFile() as capture:
        for line in sys.stdin:
            if not line.strip():
                continue
            answer = _run_request(json.loads(line), capture.fileno())
            answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
