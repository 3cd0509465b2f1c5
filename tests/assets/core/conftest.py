"""Import setup of the transform tests (helpers live in transform_world.py beside this file).

The test folders mirror the package names (tests/assets/...), and pytest's default `prepend`
import mode puts tests/ on sys.path, where `assets` would resolve to the namespace folder
tests/assets instead of the project's package. Put the repository root first so the real
packages win, and drop a namespace stand-in imported before this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]

for path in (str(HERE), str(ROOT)):
    if path in sys.path:
        sys.path.remove(path)
    sys.path.insert(0, path)
for name in [n for n in sys.modules if n.split(".")[0] in ("assets", "pipelines")]:
    if getattr(sys.modules[name], "__file__", None) is None:
        del sys.modules[name]
