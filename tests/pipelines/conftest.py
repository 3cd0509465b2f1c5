"""Make `import pipelines` find the project package, not this test directory of the same name.

pytest puts `tests/` on sys.path (rootdir conftest), where `tests/pipelines/` would be taken for
a namespace package `pipelines`; a regular package on any later sys.path entry wins over
namespace portions, so the repo root is added here.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:
    sys.path.append(REPO_ROOT)
