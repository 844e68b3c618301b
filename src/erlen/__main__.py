"""``python -m erlen``: the ``erlen`` command, without installing the console script."""

from __future__ import annotations

from erlen.cli import main

if __name__ == "__main__":
    main()
