"""Structured JSON logs, one object per line: never secrets, tokens, codes or payloads.

Call sites log an event name plus explicit fields (`log(logger, "webhook.accepted", tenant=...)`):
nothing is logged implicitly. As a second line of defence, every configured secret value is
masked in the rendered line, should one ever slip into an exception message.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable
from typing import TextIO

import orjson

_FIELDS = "receiver_fields"
_REDACTED = "***"


def log(logger: logging.Logger, event: str, *, level: int = logging.INFO, **fields: object) -> None:
    """Log `event` with structured fields (values must already be safe to show)."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={_FIELDS: fields})


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        seconds = int(record.created)
        document: dict[str, object] = {
            "ts": f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{int((record.created - seconds) * 1000):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        document.update(getattr(record, _FIELDS, {}))
        if record.exc_info:
            document["error"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
        line = orjson.dumps(document, default=str).decode()
        for secret in self.secrets:
            line = line.replace(secret, _REDACTED)
        return line


def configure_logging(
    level: str = "info", *, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> None:
    """JSON lines on stderr for the receiver and uvicorn's error logger (the access log stays off:
    it would print query strings such as the OAuth callback's authorization code)."""
    # Skip what a structured line never shows (caller frame, thread and process names): it is most
    # of the cost of a log call (the logging HOWTO's "Optimization" section).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(JsonFormatter(secrets))
    for name in ("webhook_receiver", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True
