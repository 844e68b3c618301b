"""One app under an unusual name: found among the module's globals."""

from __future__ import annotations

from erlen import Erlen

my_web_app = Erlen("single_instance")
