"""erlen: Flask's programming model on its own fast HTTP core, for WSGI and ASGI."""

from __future__ import annotations

__version__ = "0.1.0.dev0"
