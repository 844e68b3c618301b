"""Tests for erlen.config: Config's loaders, get_namespace, import_string and the app's config."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import tomllib
import types
from pathlib import Path

import pytest

from erlen import Erlen
from erlen.config import DEFAULT_CONFIG
from erlen.config import Config
from erlen.config import ConfigAttribute
from erlen.config import import_string


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(tmp_path, {"EXISTING": 1})


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("ERLEN_", "FLASK_", "MYAPP_")):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def settings_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    # A real importable module, named uniquely so no other test's import interferes.
    name = "erlen_test_settings_mod"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            """
            SECRET_KEY = "module-key"
            lower_case = "ignored"

            class Production:
                DEBUG = False
                DATABASE = "prod"

                class Inner:
                    NESTED = True
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


def test_constructor_keeps_defaults_and_root_path(tmp_path: Path) -> None:
    defaults = {"A": 1}
    config = Config(tmp_path, defaults)
    assert config == {"A": 1}
    assert config.root_path == str(tmp_path)
    config["A"] = 2
    assert defaults == {"A": 1}  # the defaults dict is copied, not shared
    assert Config("relative") == {}


def test_repr() -> None:
    assert repr(Config("/x", {"A": 1})) == "<Config {'A': 1}>"


# -- from_object -----------------------------------------------------------------


def test_from_object_takes_uppercase_attributes_only(config: Config) -> None:
    class Settings:
        DEBUG = True
        SECRET_KEY = "k"
        lower = "no"
        Mixed = "no"

    config.from_object(Settings)
    assert config["DEBUG"] is True
    assert config["SECRET_KEY"] == "k"
    assert "lower" not in config
    assert "Mixed" not in config
    assert config["EXISTING"] == 1


def test_from_object_instance_and_module(config: Config) -> None:
    class Settings:
        def __init__(self) -> None:
            self.FROM_INSTANCE = 5

    config.from_object(Settings())
    module = types.ModuleType("m")
    module.FROM_MODULE = "yes"  # type: ignore[attr-defined]
    config.from_object(module)
    assert config["FROM_INSTANCE"] == 5
    assert config["FROM_MODULE"] == "yes"


@pytest.mark.parametrize("suffix", [":Production", ".Production"])
def test_from_object_import_string_with_class(
    config: Config, settings_module: str, suffix: str
) -> None:
    config.from_object(settings_module + suffix)
    assert config["DATABASE"] == "prod"
    assert config["DEBUG"] is False
    assert "SECRET_KEY" not in config


def test_from_object_import_string_module(config: Config, settings_module: str) -> None:
    config.from_object(settings_module)
    assert config["SECRET_KEY"] == "module-key"
    assert "lower_case" not in config


def test_import_string_nested_attribute_after_colon(settings_module: str) -> None:
    inner = import_string(f"{settings_module}:Production.Inner")
    assert inner.NESTED is True
    assert import_string("os.path:join") is os.path.join
    assert import_string(" os.path.join ") is os.path.join


def test_import_string_missing_attribute_names_it(settings_module: str) -> None:
    with pytest.raises(ImportError, match=r"has no attribute 'Staging'"):
        import_string(f"{settings_module}.Staging")
    with pytest.raises(ImportError, match=r"'erlen_test_settings_mod:Nope'.*'Nope'"):
        import_string(f"{settings_module}:Nope")


def test_import_string_missing_module_raises_import_error() -> None:
    with pytest.raises(ModuleNotFoundError, match="erlen_no_such_package"):
        import_string("erlen_no_such_package.settings.Config")
    with pytest.raises(ModuleNotFoundError):
        import_string("erlen_no_such_module")


# -- from_pyfile / from_envvar -----------------------------------------------------


def test_from_pyfile_relative_to_root_path(config: Config, tmp_path: Path) -> None:
    (tmp_path / "settings.cfg").write_text(
        "import os\nSECRET_KEY = 'file-key'\nhelper = 3\nCOMPUTED = helper * 2\nFILE = __file__\n"
    )
    assert config.from_pyfile("settings.cfg") is True
    assert config["SECRET_KEY"] == "file-key"
    assert config["COMPUTED"] == 6
    assert config["FILE"] == str(tmp_path / "settings.cfg")
    assert "helper" not in config
    assert "os" not in config


def test_from_pyfile_runs_in_a_fresh_namespace(config: Config, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("LEAK = 1\n")
    (tmp_path / "b.py").write_text("SEEN = 'LEAK' in globals()\n")
    config.from_pyfile("a.py")
    config.from_pyfile("b.py")
    assert config["SEEN"] is False


def test_from_pyfile_absolute_path(tmp_path: Path) -> None:
    (tmp_path / "abs.py").write_text("X = 1\n")
    config = Config("/somewhere/else")
    assert config.from_pyfile(tmp_path / "abs.py") is True
    assert config["X"] == 1


def test_from_pyfile_missing(config: Config, tmp_path: Path) -> None:
    with pytest.raises(OSError) as exc_info:
        config.from_pyfile("missing.cfg")
    message = str(exc_info.value)
    assert "Unable to load configuration file (No such file or directory)" in message
    assert str(tmp_path / "missing.cfg") in message
    assert config.from_pyfile("missing.cfg", silent=True) is False


def test_from_pyfile_directory_is_silent_only_when_asked(config: Config, tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    assert config.from_pyfile("adir", silent=True) is False
    with pytest.raises(OSError, match="Unable to load configuration file"):
        config.from_pyfile("adir")


def test_from_pyfile_errors_in_the_file_propagate(config: Config, tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("X = (\n")
    with pytest.raises(SyntaxError):
        config.from_pyfile("broken.py", silent=True)
    (tmp_path / "raises.py").write_text("raise KeyError('boom')\n")
    with pytest.raises(KeyError, match="boom"):
        config.from_pyfile("raises.py")


def test_from_envvar(config: Config, tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    (tmp_path / "env.cfg").write_text("FROM_ENV = True\n")
    clean_env.setenv("ERLEN_TEST_SETTINGS", str(tmp_path / "env.cfg"))
    assert config.from_envvar("ERLEN_TEST_SETTINGS") is True
    assert config["FROM_ENV"] is True


def test_from_envvar_unset(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.delenv("ERLEN_TEST_SETTINGS", raising=False)
    with pytest.raises(RuntimeError) as exc_info:
        config.from_envvar("ERLEN_TEST_SETTINGS")
    assert str(exc_info.value) == (
        "The environment variable 'ERLEN_TEST_SETTINGS' is not set and as such"
        " configuration could not be loaded. Set this variable and make it point"
        " to a configuration file"
    )
    assert config.from_envvar("ERLEN_TEST_SETTINGS", silent=True) is False


def test_from_envvar_missing_file(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ERLEN_TEST_SETTINGS", "nope.cfg")
    with pytest.raises(OSError, match=r"Unable to load configuration file.*nope\.cfg"):
        config.from_envvar("ERLEN_TEST_SETTINGS")
    assert config.from_envvar("ERLEN_TEST_SETTINGS", silent=True) is False


# -- from_file / from_mapping -----------------------------------------------------


def test_from_file_json(config: Config, tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text(json.dumps({"SECRET_KEY": "j", "lower": 1, "N": [1]}))
    assert config.from_file("c.json", load=json.load) is True
    assert config["SECRET_KEY"] == "j"
    assert config["N"] == [1]
    assert "lower" not in config


def test_from_file_toml_binary(config: Config, tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('SECRET_KEY = "t"\n[DB]\nHOST = "h"\n')
    assert config.from_file("c.toml", load=tomllib.load, text=False) is True
    assert config["SECRET_KEY"] == "t"
    assert config["DB"] == {"HOST": "h"}


def test_from_file_missing(config: Config, tmp_path: Path) -> None:
    with pytest.raises(OSError) as exc_info:
        config.from_file("none.json", load=json.load)
    assert "Unable to load configuration file (No such file or directory)" in str(exc_info.value)
    assert str(tmp_path / "none.json") in str(exc_info.value)
    assert config.from_file("none.json", load=json.load, silent=True) is False


def test_from_file_load_errors_propagate(config: Config, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(json.JSONDecodeError):
        config.from_file("bad.json", load=json.load, silent=True)


def test_from_mapping(config: Config) -> None:
    assert config.from_mapping({"A": 1, "b": 2}, C=3, d=4) is True
    assert config["A"] == 1
    assert config["C"] == 3
    assert "b" not in config
    assert "d" not in config
    config.from_mapping({"A": 1}, A=9)
    assert config["A"] == 9  # keywords win over the mapping
    assert config.from_mapping() is True
    assert config["A"] == 9


def test_from_mapping_accepts_pairs_as_in_flask(config: Config) -> None:
    config.from_mapping([("PAIR", 1)])  # type: ignore[arg-type]
    assert config["PAIR"] == 1


# -- from_prefixed_env -------------------------------------------------------------


def test_from_prefixed_env_decodes_json(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ERLEN_STRING", "plain text")
    clean_env.setenv("ERLEN_BOOL", "true")
    clean_env.setenv("ERLEN_INT", "42")
    clean_env.setenv("ERLEN_LIST", "[1, 2]")
    clean_env.setenv("ERLEN_QUOTED", '"42"')
    clean_env.setenv("OTHER_KEY", "x")
    assert config.from_prefixed_env() is True
    assert config["STRING"] == "plain text"
    assert config["BOOL"] is True
    assert config["INT"] == 42
    assert config["LIST"] == [1, 2]
    assert config["QUOTED"] == "42"
    assert "OTHER_KEY" not in config
    assert "KEY" not in config


def test_from_prefixed_env_reads_flask_variables_erlen_wins(
    config: Config, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("FLASK_SECRET_KEY", '"flask"')
    clean_env.setenv("ERLEN_SECRET_KEY", '"erlen"')
    clean_env.setenv("FLASK_ONLY_FLASK", "1")
    config.from_prefixed_env()
    assert config["SECRET_KEY"] == "erlen"
    assert config["ONLY_FLASK"] == 1


def test_from_prefixed_env_custom_prefix_ignores_flask(
    config: Config, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("FLASK_A", "1")
    clean_env.setenv("ERLEN_B", "2")
    clean_env.setenv("MYAPP_C", "3")
    config.from_prefixed_env("MYAPP")
    assert config["C"] == 3
    assert "A" not in config
    assert "B" not in config


def test_from_prefixed_env_custom_loads(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ERLEN_A", "x")
    clean_env.setenv("ERLEN_B", "fail")

    def loads(value: str) -> str:
        if value == "fail":
            raise ValueError(value)
        return value.upper()

    config.from_prefixed_env(loads=loads)
    assert config["A"] == "X"
    assert config["B"] == "fail"


def test_from_prefixed_env_nested(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    config["EXISTING_DICT"] = {"KEEP": 1}
    clean_env.setenv("ERLEN_DB__HOST", "db.local")
    clean_env.setenv("ERLEN_DB__PORT", "5432")
    clean_env.setenv("ERLEN_DEEP__A__B", "true")
    clean_env.setenv("ERLEN_EXISTING_DICT__NEW", "2")
    config.from_prefixed_env()
    assert config["DB"] == {"HOST": "db.local", "PORT": 5432}
    assert config["DEEP"] == {"A": {"B": True}}
    assert config["EXISTING_DICT"] == {"KEEP": 1, "NEW": 2}


def test_from_prefixed_env_sorted_so_later_keys_extend_earlier(
    config: Config, clean_env: pytest.MonkeyPatch
) -> None:
    # "ERLEN_DB" sorts before "ERLEN_DB__HOST": the dict is set first, then extended.
    clean_env.setenv("ERLEN_DB__HOST", '"h"')
    clean_env.setenv("ERLEN_DB", '{"PORT": 1}')
    config.from_prefixed_env()
    assert config["DB"] == {"PORT": 1, "HOST": "h"}


def test_from_prefixed_env_nested_into_non_dict_names_key(
    config: Config, clean_env: pytest.MonkeyPatch
) -> None:
    config["DB"] = "sqlite://"
    clean_env.setenv("ERLEN_DB__HOST", "h")
    with pytest.raises(TypeError, match=r"'ERLEN_DB__HOST'.*config\['DB'\] is a str"):
        config.from_prefixed_env()


def test_from_prefixed_env_bare_prefix_is_ignored(
    config: Config, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("ERLEN_", "1")
    before = dict(config)
    config.from_prefixed_env()
    assert config == before


# -- get_namespace ------------------------------------------------------------------


def test_get_namespace(config: Config) -> None:
    config.update(
        {"IMAGE_STORE_TYPE": "fs", "IMAGE_STORE_PATH": "/var", "IMAGE_STORE_BASE_URL": "u"}
    )
    assert config.get_namespace("IMAGE_STORE_") == {
        "type": "fs",
        "path": "/var",
        "base_url": "u",
    }
    assert config.get_namespace("IMAGE_STORE_", lowercase=False) == {
        "TYPE": "fs",
        "PATH": "/var",
        "BASE_URL": "u",
    }
    assert config.get_namespace("IMAGE_STORE_", trim_namespace=False) == {
        "image_store_type": "fs",
        "image_store_path": "/var",
        "image_store_base_url": "u",
    }
    assert config.get_namespace("NOTHING_") == {}


# -- the app's config ----------------------------------------------------------------


def test_app_config_has_defaults_and_root_path(tmp_path: Path) -> None:
    app = Erlen("erlen_config_app", root_path=str(tmp_path))
    assert isinstance(app.config, Config)
    assert app.config.root_path == str(tmp_path)
    for key, value in DEFAULT_CONFIG.items():
        if key != "DEBUG":
            assert app.config[key] == value
    (tmp_path / "app.cfg").write_text("SECRET_KEY = 'from-file'\nTESTING = True\n")
    app.config.from_pyfile("app.cfg")
    assert app.secret_key == "from-file"
    assert app.testing is True


def test_app_instance_relative_config(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "app.cfg").write_text("FROM_INSTANCE = 1\n")
    app = Erlen(
        "erlen_config_app",
        root_path=str(tmp_path),
        instance_path=str(instance),
        instance_relative_config=True,
    )
    assert app.config.root_path == str(instance)
    assert app.config.from_pyfile("app.cfg") is True
    assert app.config["FROM_INSTANCE"] == 1


def test_config_attribute_forwards() -> None:
    class Holder:
        flag = ConfigAttribute("FLAG", get_converter=bool)

        def __init__(self) -> None:
            self.config = Config("/", {"FLAG": 0})

    holder = Holder()
    assert holder.flag is False
    holder.flag = 1
    assert holder.config["FLAG"] == 1
    assert holder.flag is True
    assert isinstance(Holder.__dict__["flag"], ConfigAttribute)
    assert Holder.flag is Holder.__dict__["flag"]
