"""Hand memory freed by a finished fetch back to the OS before dlt loads.

Parsing tens of thousands of JSON pages leaves the freed heap with the process (glibc keeps
arenas, Arrow's allocator keeps pages); without this, the load step (DuckDB) stacks its own
memory on top and peak RSS grows with the size of the import.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import lru_cache

import pyarrow as pa


@lru_cache(maxsize=1)
def _malloc_trim():
    name = ctypes.util.find_library("c")
    library = ctypes.CDLL(name) if name else None
    return getattr(library, "malloc_trim", None)


def release_memory() -> None:
    gc.collect()
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
