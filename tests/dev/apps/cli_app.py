"""The CLI case: ``load_app`` imports the module ``mod`` by name in the child."""

from __future__ import annotations

import importlib
import json
import os
import sys
import typing as t


def load_app() -> t.Any:
    return importlib.import_module("mod").app


if __name__ == "__main__":
    from erlen.dev.run import run_dev_server

    options = json.loads(os.environ.get("TEST_RUN_OPTIONS", "{}"))
    run_dev_server(load_app, port=int(sys.argv[1]), use_reloader=True, **options)
