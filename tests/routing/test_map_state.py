"""``Map`` state around ``add``: the generated code, the memo and copies.

The generated match function (``Map.find``) is a snapshot of the trie: every
way of changing the rules must drop it, or requests keep matching old rules.
"""

from __future__ import annotations

import pytest

from erlen.routing import Map
from erlen.routing import Rule
from erlen.routing import Submount


def endpoint_of(url_map: Map, path: str) -> object:
    found = url_map.find("", path, "GET", False)
    return found[0].endpoint if found else None


def test_a_failed_add_drops_the_generated_code() -> None:
    url_map = Map([Rule("/p/<x>", endpoint="dyn")])
    assert endpoint_of(url_map, "/p/new") == "dyn"
    cache = url_map.match_cache
    cache["/p/new"] = "a memo of the old rules"
    factory = Submount("/p", [Rule("/new", endpoint="new"), Rule("/bad/<nope:a>", endpoint="bad")])
    with pytest.raises(ValueError, match="Unknown converter"):
        url_map.add(factory)
    # "/p/new" was added before "/p/bad/<nope:a>" failed: it must match.
    assert [r.endpoint for r in url_map.iter_rules()] == ["dyn", "new"]
    assert endpoint_of(url_map, "/p/new") == "new"
    assert url_map.bind("x").match("/p/new") == ("new", {})
    assert "/p/new" not in url_map.match_cache
