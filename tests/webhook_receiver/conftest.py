"""Make `import webhook_receiver` / `import pipelines` find the project packages.

pytest puts `tests/` on sys.path (rootdir conftest), where `tests/webhook_receiver/` and
`tests/pipelines/` would be taken for namespace packages of the same names; a regular package on
any later sys.path entry wins over namespace portions, so the repo root is added here.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:
    sys.path.append(REPO_ROOT)


@pytest.fixture
def isolated_logging() -> Iterator[None]:
    """For tests that call configure_logging(): put the logging module back as it was afterwards."""
    knobs = (logging._srcfile, logging.logThreads, logging.logProcesses, logging.logMultiprocessing)
    loggers = [
        logging.getLogger(name) for name in ("webhook_receiver", "uvicorn", "uvicorn.error", "uvicorn.access")
    ]
    state = [(lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in loggers]
    try:
        yield
    finally:
        logging._srcfile, logging.logThreads, logging.logProcesses, logging.logMultiprocessing = knobs
        for lg, (handlers, level, propagate, disabled) in zip(loggers, state, strict=True):
            lg.handlers, lg.level, lg.propagate, lg.disabled = handlers, level, propagate, disabled
