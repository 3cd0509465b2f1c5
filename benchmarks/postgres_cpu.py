"""CPU seconds of the local PostgreSQL server, for the benchmarks that run work in it."""

from __future__ import annotations

import psutil


def postgres_server_cpu() -> float:
    """CPU seconds of this machine's PostgreSQL server: its live processes, and the backends that
    already exited (their time is the postmaster's children time). The server is shared: other
    sessions' work counts too, which is why the load average is printed beside it."""
    total = 0.0
    for process in psutil.process_iter(["name", "ppid"]):
        if process.info["name"] not in ("postgres", "postmaster"):
            continue
        try:
            times = process.cpu_times()
            parent = psutil.Process(process.info["ppid"]).name()
        except psutil.Error:
            continue
        total += times.user + times.system
        if parent not in ("postgres", "postmaster"):  # the postmaster: add its exited children
            total += times.children_user + times.children_system
    return total
