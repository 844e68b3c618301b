"""One module per framework, each serving every scenario in ``_harness.SCENARIOS``.

Each module defines ``create_app() -> BenchApp``. The apps are written the way
each framework's documentation writes them, with identical observable behaviour.
"""

from __future__ import annotations
