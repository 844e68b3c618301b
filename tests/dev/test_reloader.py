"""The file watcher: what counts as a change, and both backends seeing changes alike."""

from __future__ import annotations

import collections.abc as cabc
import os
import pathlib
import queue
import sys
import threading
import time

import pytest

from erlen.dev.reloader import Reloader
from erlen.dev.reloader import module_dirs

BACKENDS = ["watchfiles", "stat"]


@pytest.fixture
def project(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """A small project tree, also the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ERLEN_RELOADER_POLL", raising=False)
    monkeypatch.delenv("WATCHFILES_FORCE_POLLING", raising=False)
    (tmp_path / "app.py").write_text("x = 1\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "data.txt").write_text("")
    (tmp_path / ".env").write_text("A=1\n")
    for ignored in (".venv/lib", "node_modules/x", "__pycache__", ".git", "env/lib"):
        (tmp_path / ignored).mkdir(parents=True)
        (tmp_path / ignored / "ignored.py").write_text("")
    (tmp_path / "env" / "pyvenv.cfg").write_text("")  # a virtualenv by any name
    return tmp_path


class Watching:
    """Run ``Reloader.changes()`` in a thread; collect batches in a queue."""

    def __init__(self, reloader: Reloader) -> None:
        self.reloader = reloader
        self.batches: queue.Queue[set[str]] = queue.Queue()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        for batch in self.reloader.changes():
            self.batches.put(batch)

    def next(self, timeout: float = 5.0) -> set[str]:
        return self.batches.get(timeout=timeout)

    def quiet(self, seconds: float = 0.4) -> bool:
        try:
            extra = self.batches.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected change: {extra}")


@pytest.fixture
def watching() -> cabc.Iterator[cabc.Callable[[Reloader], Watching]]:
    started: list[Watching] = []

    def start(reloader: Reloader) -> Watching:
        w = Watching(reloader)
        w.thread.start()
        time.sleep(0.2)  # the watch is set up
        started.append(w)
        return w

    yield start
    for w in started:
        w.reloader.stop()
        w.thread.join(5)
        assert not w.thread.is_alive()


def test_scan_finds_project_files_and_skips_environments(project: pathlib.Path) -> None:
    reloader = Reloader([str(project)], backend="stat")
    dirs, files = reloader.scan()
    assert set(files) == {str(project / "app.py"), str(project / "pkg" / "__init__.py"),
                          str(project / ".env")}  # fmt: skip
    assert str(project / "pkg") in dirs
    assert not any("ignored" in f for f in files)
    assert str(project / "env") not in dirs


def test_is_watched_filters(project: pathlib.Path) -> None:
    reloader = Reloader(
        [str(project)],
        extra_files=["pkg/data.txt", "conf/**.toml"],
        exclude_patterns=["*_test.py", "pkg/gen*", str(project / "skip.py")],
        backend="stat",
    )
    root = str(project)
    assert reloader.is_watched(f"{root}/new.py")
    assert reloader.is_watched(f"{root}/.flaskenv")
    assert not reloader.is_watched(f"{root}/notes.txt")
    assert not reloader.is_watched(f"{root}/app.pyc")
    assert reloader.is_watched(f"{root}/pkg/data.txt")
    assert reloader.is_watched(f"{root}/conf/deep/er/a.toml")  # ``*`` crosses ``/``
    assert not reloader.is_watched(f"{root}/conf/a.yaml")
    assert not reloader.is_watched(f"{root}/pkg/mod_test.py")  # base name
    assert not reloader.is_watched(f"{root}/pkg/generated.py")  # relative path
    assert not reloader.is_watched(f"{root}/skip.py")  # full path
    assert not reloader.is_watched("/elsewhere/mod.py")  # outside the roots
    assert str(project / "conf") not in reloader.roots  # doesn't exist yet


def test_roots_collapse_and_add_roots(project: pathlib.Path) -> None:
    reloader = Reloader([str(project / "pkg"), str(project)], backend="stat")
    assert reloader.roots == [str(project)]
    assert not reloader.add_roots([str(project / "pkg")])
    other = project.parent / (project.name + "-other")
    other.mkdir()
    assert reloader.add_roots([str(other)])
    assert reloader.roots == sorted([str(project), str(other)])


def test_home_is_watched_shallowly(project: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(project))
    reloader = Reloader([str(project)], backend="stat")
    files = reloader.scan()[1]
    assert str(project / "app.py") in files
    assert str(project / "pkg" / "__init__.py") not in files


def test_module_dirs_skip_stdlib_and_installed_packages() -> None:
    dirs = module_dirs()
    assert os.path.dirname(os.path.abspath(__file__)) in dirs
    assert os.path.dirname(os.__file__) not in dirs
    assert os.path.dirname(pytest.__file__) not in dirs
    assert not any("site-packages" in d for d in dirs)


def test_bad_options_raise() -> None:
    with pytest.raises(ValueError, match="Unknown reloader type 'inotify'"):
        Reloader([], backend="inotify")
    with pytest.raises(ValueError, match="reloader_interval"):
        Reloader([], interval=0)


def test_polling_forced_by_environment(
    project: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Reloader([str(project)]).backend == "watchfiles"
    monkeypatch.setenv("WATCHFILES_FORCE_POLLING", "1")
    reloader = Reloader([str(project)])
    assert reloader.backend == "stat"
    assert "WATCHFILES_FORCE_POLLING" in reloader.reason


def test_watchfiles_missing_falls_back_to_stat(
    project: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "watchfiles", None)
    reloader = Reloader([str(project)])
    assert (reloader.backend, reloader.reason) == ("stat", "watchfiles is not installed")


@pytest.mark.parametrize("backend", BACKENDS)
def test_changes_modify_add_delete(
    project: pathlib.Path,
    watching: cabc.Callable[[Reloader], Watching],
    backend: str,
) -> None:
    w = watching(Reloader([str(project)], backend=backend, interval=0.05))
    assert w.reloader.backend == backend
    (project / "app.py").write_text("x = 2\n")
    assert w.next() == {str(project / "app.py")}
    (project / "pkg" / "new.py").write_text("")
    assert w.next() == {str(project / "pkg" / "new.py")}
    (project / "pkg" / "new.py").unlink()
    assert w.next() == {str(project / "pkg" / "new.py")}
    (project / ".env").write_text("A=2\n")
    assert w.next() == {str(project / ".env")}


@pytest.mark.parametrize("backend", BACKENDS)
def test_ignored_and_excluded_files_never_trigger(
    project: pathlib.Path,
    watching: cabc.Callable[[Reloader], Watching],
    backend: str,
) -> None:
    reloader = Reloader(
        [str(project)], exclude_patterns=["gen_*.py"], backend=backend, interval=0.05
    )
    w = watching(reloader)
    (project / "pkg" / "data.txt").write_text("x")
    (project / "pkg" / "gen_x.py").write_text("x")
    (project / ".venv" / "lib" / "ignored.py").write_text("x")
    (project / "__pycache__" / "app.cpython-311.pyc").write_text("x")
    (project / "env" / "lib" / "ignored.py").write_text("x")
    assert w.quiet()
    (project / "app.py").write_text("x = 3\n")
    assert w.next() == {str(project / "app.py")}


@pytest.mark.parametrize("backend", BACKENDS)
def test_new_directory_and_globbed_extra_files(
    project: pathlib.Path,
    watching: cabc.Callable[[Reloader], Watching],
    backend: str,
) -> None:
    (project / "conf").mkdir()
    w = watching(
        Reloader([str(project)], extra_files=["conf/*.toml"], backend=backend, interval=0.05)
    )
    (project / "conf" / "new.toml").write_text("a = 1\n")
    assert w.next() == {str(project / "conf" / "new.toml")}
    (project / "sub").mkdir()
    (project / "sub" / "mod.py").write_text("")
    assert str(project / "sub" / "mod.py") in w.next()
    time.sleep(0.3)
    (project / "sub" / "mod.py").write_text("y = 1\n")
    assert w.next() == {str(project / "sub" / "mod.py")}


@pytest.mark.parametrize("backend", BACKENDS)
def test_extra_file_outside_the_roots(
    project: pathlib.Path,
    tmp_path_factory: pytest.TempPathFactory,
    watching: cabc.Callable[[Reloader], Watching],
    backend: str,
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "settings.cfg"
    outside.write_text("a")
    (outside.parent / "other.py").write_text("")
    w = watching(
        Reloader([str(project)], extra_files=[str(outside)], backend=backend, interval=0.05)
    )
    (outside.parent / "other.py").write_text("x")
    assert w.quiet()
    outside.write_text("b")
    assert w.next() == {str(outside)}


@pytest.mark.parametrize("backend", BACKENDS)
def test_stop_ends_changes_promptly(
    project: pathlib.Path,
    backend: str,
) -> None:
    reloader = Reloader([str(project)], backend=backend, interval=0.05)
    w = Watching(reloader)
    w.thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    reloader.stop()
    w.thread.join(5)
    assert not w.thread.is_alive()
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_save_while_roots_are_added_is_not_lost(
    project: pathlib.Path,
    backend: str,
    watching: cabc.Callable[[Reloader], Watching],
) -> None:
    # The supervisor adds the new child's module directories right after it
    # starts serving; a save at that moment must still reload.
    other = project.parent / f"{project.name}-other"
    other.mkdir()
    (other / "lib.py").write_text("")
    w = watching(Reloader([str(project)], backend=backend, interval=0.3))
    (project / "app.py").write_text("x = 2\n")
    assert w.reloader.add_roots([str(other)])
    assert w.next() == {str(project / "app.py")}
    assert w.quiet()


def test_roots_added_during_a_scan_are_not_changes(project: pathlib.Path) -> None:
    # The supervisor adds directories while the polling thread walks the old
    # ones: their files must not look like saves at the next round.
    other = project.parent / f"{project.name}-during"
    other.mkdir()
    (other / "lib.py").write_text("")
    scans = 0

    class Racing(Reloader):
        def scan(self) -> tuple[set[str], dict[str, tuple[int, int]]]:
            nonlocal scans
            scans += 1
            result = super().scan()
            if scans == 2:
                self.add_roots([str(other)])
            return result

    reloader = Racing([str(project)], backend="stat", interval=0.05)
    timer = threading.Timer(0.6, reloader.stop)
    timer.start()
    try:
        batches = list(reloader.changes())
    finally:
        timer.cancel()
    assert scans > 3
    assert batches == []


def test_a_file_created_in_a_watched_root_while_roots_are_added_is_reported(
    project: pathlib.Path,
    watching: cabc.Callable[[Reloader], Watching],
) -> None:
    other = project.parent / f"{project.name}-more"
    other.mkdir()
    (other / "lib.py").write_text("")
    w = watching(Reloader([str(project)], backend="stat", interval=0.3))
    (project / "new_module.py").write_text("")
    assert w.reloader.add_roots([str(other)])
    assert w.next() == {str(project / "new_module.py")}
    assert w.quiet()
