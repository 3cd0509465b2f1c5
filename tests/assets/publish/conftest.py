"""Import setup of the publish tests: the shared helpers are tests/assets/core/transform_world.py.

See tests/assets/core/conftest.py for why the repository root goes first on sys.path.
"""

from __future__ import annotations

import sys
from pathlib import Path

HELPERS = Path(__file__).resolve().parents[1] / "core"
ROOT = Path(__file__).resolve().parents[3]

for path in (str(HELPERS), str(ROOT)):
    if path in sys.path:
        sys.path.remove(path)
    sys.path.insert(0, path)
for name in [n for n in sys.modules if n.split(".")[0] in ("assets", "pipelines")]:
    if getattr(sys.modules[name], "__file__", None) is None:
        del sys.modules[name]
