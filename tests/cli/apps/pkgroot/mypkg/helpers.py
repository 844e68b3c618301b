from __future__ import annotations

GREETING = "hi from mypkg"
