"""Two apps and neither named ``app``: discovery must refuse to guess."""

from __future__ import annotations

from erlen import Erlen

first = Erlen("first")
second = Erlen("second")
