"""Fixtures shared by the receiver tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


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
