"""Stop long-running commands cleanly on Ctrl-C or SIGTERM (simulator and children included)."""

from __future__ import annotations

import signal


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def stop_on_signals() -> None:
    """Ctrl-C and SIGTERM both stop everything, also when started in the background.

    A shell starts background jobs with SIGINT ignored, and ignored signals survive exec: with a
    Python handler installed here, the children start with the default action again.
    """
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
