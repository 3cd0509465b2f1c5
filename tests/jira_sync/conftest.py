"""Import setup of the `jira-sync` command tests."""

from __future__ import annotations

import sys
from pathlib import Path

# pytest's prepend import mode puts tests/ on sys.path, where tests/assets and tests/pipelines
# pass for namespace packages `assets` and `pipelines`; a regular package on any entry wins.
_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.append(_REPO)
for _shadowed in ("assets", "pipelines"):
    if _shadowed in sys.modules and getattr(sys.modules[_shadowed], "__file__", None) is None:
        del sys.modules[_shadowed]
