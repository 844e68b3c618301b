"""Watch a project's source files and report which ones changed.

:class:`Reloader` turns "the modules this app imported, the working directory
and some extra files" into a set of directories, then yields the changed paths
in batches, from OS file events (``watchfiles``) or, where those don't arrive
(network and VM mounts, WSL's ``/mnt``, a failed watcher, or when asked), from a
loop that compares modification times. Both backends share one walk and one
filter, so globs and exclusions mean the same thing in each.
"""

from __future__ import annotations

import collections.abc as cabc
import fnmatch
import glob
import os
import sys
import sysconfig
import threading

__all__ = ["IGNORED_DIRS", "TRIGGER_NAMES", "Reloader", "is_library", "module_dirs"]

# Directories never walked: environments, caches, VCS data, JS dependencies.
IGNORED_DIRS = frozenset(
    {
        ".venv",
        "venv",
        "__pycache__",
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "site-packages",
        "dist-packages",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".idea",
    }
)
# Files that restart the server besides ``*.py`` (the dotenv files apply at start).
TRIGGER_NAMES = frozenset({".env", ".erlenenv", ".flaskenv"})
# Filesystems whose changes made elsewhere (a host, a VM, a server) produce no
# inotify events here: poll them.
_POLLED_FS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "drvfs",
        "vboxsf",
        "virtiofs",
        "fakeowner",
        "grpcfuse",
        "osxfs",
        "fuse.grpcfuse",
        "fuse.sshfs",
        "prl_fs",
    }
)
_POLL_ENV = ("ERLEN_RELOADER_POLL", "WATCHFILES_FORCE_POLLING")


def _library_prefixes() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    prefixes = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    prefixes.update({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})
    return tuple(os.path.join(os.path.abspath(p), "") for p in prefixes)


def _is_library(path: str, prefixes: tuple[str, ...]) -> bool:
    if path.startswith(prefixes):
        return True
    parts = set(path.split(os.sep))
    return not parts.isdisjoint(IGNORED_DIRS)


def is_library(path: str) -> bool:
    """Whether the file ``path`` belongs to the standard library, a virtualenv or
    installed packages rather than to the project."""
    return _is_library(os.path.abspath(path), _library_prefixes())


def module_dirs() -> set[str]:
    """Directories of the loaded modules that belong to the project.

    Skips the standard library, installed packages and virtualenvs, so editing
    (or merely opening) a library file never restarts the server.
    """
    prefixes = _library_prefixes()
    dirs: set[str] = set()
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if not isinstance(name, str) or not os.path.isabs(name):
            continue
        if not os.path.isfile(name):
            continue  # zipimport, frozen, or gone
        path = os.path.dirname(name)
        if not _is_library(os.path.join(path, ""), prefixes):
            dirs.add(path)
    return dirs


def _glob_base(pattern: str) -> str:
    """The longest leading directory of ``pattern`` without wildcards."""
    parts = pattern.split(os.sep)
    base: list[str] = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        base.append(part)
    return os.sep.join(base) or os.sep


def _collapse(roots: cabc.Iterable[str]) -> list[str]:
    """Sorted roots with those inside another root removed."""
    out: list[str] = []
    for root in sorted(set(roots)):
        if not any(root == r or root.startswith(os.path.join(r, "")) for r in out):
            out.append(root)
    return out


def _mount_types() -> list[tuple[str, str]]:
    """``(mount point, fs type)`` pairs, longest mount point first (Linux only)."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            rows = [line.split() for line in f]
    except OSError:
        return []
    mounts = [(r[1].replace("\\040", " "), r[2]) for r in rows if len(r) >= 3]
    return sorted(mounts, key=lambda m: len(m[0]), reverse=True)


def _needs_polling(paths: cabc.Iterable[str]) -> str | None:
    """Why OS events can't be trusted for ``paths``, or None if they can."""
    for name in _POLL_ENV:
        if os.environ.get(name, "").lower() not in ("", "0", "false", "no"):
            return f"{name} is set"
    mounts = _mount_types()
    for path in paths:
        if path.startswith("/mnt/") and "microsoft" in os.uname().release.lower():
            return f"{path} is a Windows drive under WSL"
        for point, fstype in mounts:
            if path == point or path.startswith(os.path.join(point, "")):
                if fstype in _POLLED_FS:
                    return f"{path} is on a {fstype} mount"
                break
    return None


class Reloader:
    """Watch project files; iterate :meth:`changes` for batches of changed paths.

    ``roots`` are walked recursively (skipping :data:`IGNORED_DIRS`), except
    the home directory and ``/``, of which only the direct files count.
    ``extra_files`` are paths or globs (``*`` and ``**`` match across
    directories, as in :func:`fnmatch.fnmatch`); new files matching a glob count.
    ``exclude_patterns`` are globs matched against the full path, the path
    relative to the working directory, and the base name. ``backend`` is
    ``"auto"``, ``"watchfiles"`` or ``"stat"``.
    """

    def __init__(
        self,
        roots: cabc.Iterable[str] = (),
        *,
        extra_files: cabc.Iterable[str] | None = None,
        exclude_patterns: cabc.Iterable[str] | None = None,
        interval: float = 1.0,
        backend: str = "auto",
    ) -> None:
        if backend not in ("auto", "watchfiles", "stat"):
            raise ValueError(
                f"Unknown reloader type {backend!r}; use 'auto', 'watchfiles' or 'stat'."
            )
        if interval <= 0:
            raise ValueError(f"reloader_interval must be > 0 seconds, not {interval!r}.")
        self.interval = interval
        self._cwd = os.getcwd()
        self._extra: set[str] = set()
        self._extra_globs: list[str] = []
        self._shallow: set[str] = {os.sep, os.path.expanduser("~")}
        extra_roots: set[str] = set()
        extra_dirs: set[str] = set()
        for item in extra_files or ():
            path = os.path.abspath(os.fspath(item))
            if glob.has_magic(path):
                self._extra_globs.append(path)
                extra_roots.add(_glob_base(path))
            else:
                self._extra.add(path)
                extra_dirs.add(os.path.dirname(path))
        self._excludes = list(exclude_patterns or ())
        self._roots: list[str] = []
        self._lock = threading.Lock()
        self._restart = threading.Event()
        self._stop = threading.Event()
        # The last round's files and roots, to catch changes between rounds.
        self._known: tuple[dict[str, tuple[int, int]], tuple[str, ...]] | None = None
        # Directories watched non-recursively just for an extra file in them.
        self._extra_dirs = extra_dirs
        self.add_roots([*roots, *extra_roots])
        self.reason = ""
        self.backend = backend
        if backend != "stat":
            self.reason = _needs_polling([*self._roots, *self._extra_dirs]) or ""
            try:
                import watchfiles  # noqa: F401
            except ImportError:
                self.reason = self.reason or "watchfiles is not installed"
            if self.reason and backend == "watchfiles":
                self.reason = ""  # asked for explicitly: trust it
            self.backend = "stat" if self.reason else "watchfiles"

    # -- configuration -----------------------------------------------------

    @property
    def roots(self) -> list[str]:
        with self._lock:
            return list(self._roots)

    def add_roots(self, roots: cabc.Iterable[str]) -> bool:
        """Watch these directories too; True if anything new is watched."""
        new = [os.path.abspath(r) for r in roots if os.path.isdir(r)]
        with self._lock:
            merged = _collapse([*self._roots, *new])
            if merged == self._roots:
                return False
            self._roots = merged
        self._restart.set()
        return True

    def stop(self) -> None:
        """End :meth:`changes` (from any thread) within about 50 ms."""
        self._stop.set()
        self._restart.set()

    # -- the filter --------------------------------------------------------

    def is_excluded(self, path: str) -> bool:
        """Whether ``path`` matches one of ``exclude_patterns``."""
        if not self._excludes:
            return False
        names = [path, os.path.basename(path)]
        if path.startswith(os.path.join(self._cwd, "")):
            names.append(os.path.relpath(path, self._cwd))
        return any(fnmatch.fnmatchcase(n, p) for p in self._excludes for n in names)

    def is_watched(self, path: str) -> bool:
        """Whether a change to ``path`` should restart the server."""
        if self.is_excluded(path):
            return False
        if path in self._extra or any(fnmatch.fnmatchcase(path, g) for g in self._extra_globs):
            return True
        name = os.path.basename(path)
        if not (name.endswith(".py") or name in TRIGGER_NAMES):
            return False
        return any(path.startswith(os.path.join(r, "")) for r in self._roots)

    def _skip_dir(self, path: str, name: str) -> bool:
        return (
            name in IGNORED_DIRS
            or os.path.exists(os.path.join(path, "pyvenv.cfg"))
            or self.is_excluded(path)
        )

    def scan(self) -> tuple[set[str], dict[str, tuple[int, int]]]:
        """Walk the roots: ``(directories, {watched file: (mtime_ns, size)})``."""
        dirs: set[str] = set()
        files: dict[str, tuple[int, int]] = {}
        stack = [(r, r not in self._shallow) for r in self.roots]
        stack += [(d, False) for d in self._extra_dirs]
        while stack:
            top, recurse = stack.pop()
            if top in dirs:
                continue
            dirs.add(top)
            try:
                entries = list(os.scandir(top))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.is_dir():
                        if recurse and not self._skip_dir(entry.path, entry.name):
                            stack.append((entry.path, True))
                    elif self.is_watched(entry.path):
                        st = entry.stat()
                        files[entry.path] = (st.st_mtime_ns, st.st_size)
                except OSError:
                    continue  # vanished while we looked
        return dirs, files

    # -- the loops ---------------------------------------------------------

    def changes(self) -> cabc.Iterator[set[str]]:
        """Yield each batch of changed (added, modified or deleted) paths.

        Runs until :meth:`stop`; meant for a thread of its own. If the OS
        watcher fails (e.g. the inotify watch limit), it says so on stderr and
        continues by polling.
        """
        while not self._stop.is_set():
            if self.backend == "watchfiles":
                try:
                    yield from self._watchfiles_round()
                    continue
                except Exception as e:  # the Rust side raises plain exceptions
                    self.reason = f"the file watcher failed ({e})"
                    self.backend = "stat"
                    print(
                        f" * Reloader: {self.reason}; polling every {self.interval}s instead.",
                        file=sys.stderr,
                    )
            yield from self._stat_round()

    def _watchfiles_round(self) -> cabc.Iterator[set[str]]:
        """Watch the current directories until stopped or the set must change."""
        import watchfiles

        self._restart.clear()
        roots = [os.path.join(r, "") for r in self.roots]
        dirs, known = self.scan()
        if self._known is not None:
            # Report what changed while no watch was running (between rounds);
            # files under roots added since are not changes.
            old, old_roots = self._known
            missed = {
                p
                for p in known.keys() | old.keys()
                if known.get(p) != old.get(p) and (p.startswith(old_roots) or p in self._extra)
            }
            if missed:
                yield missed
        self._known = (known, tuple(roots))
        accept = self.is_watched
        skip = self._skip_dir

        def watch_filter(change: watchfiles.Change, path: str) -> bool:
            if accept(path):
                return True
            return (
                change == watchfiles.Change.added
                and os.path.isdir(path)
                and not skip(path, os.path.basename(path))
            )

        # PERF: each directory is watched non-recursively, so the kernel keeps
        # no watches for virtualenvs or node_modules inside the project.
        for batch in watchfiles.watch(
            *sorted(dirs),
            watch_filter=watch_filter,
            debounce=1600,
            step=50,
            stop_event=self._restart,
            recursive=False,
            raise_interrupt=False,
        ):
            paths = {path for _, path in batch if accept(path)}
            for path in paths:
                try:
                    st = os.stat(path)
                    known[path] = (st.st_mtime_ns, st.st_size)
                except OSError:
                    known.pop(path, None)
            if paths:
                yield paths
            if any(not accept(path) for _, path in batch):
                # A new directory: start a round that watches it too; its
                # first scan reports the files that appeared in it meanwhile.
                return

    def _stat_round(self) -> cabc.Iterator[set[str]]:
        """Compare modification times every ``interval`` seconds until stopped."""
        watched = self._root_prefixes()
        _, before = self.scan()
        while not self._stop.wait(self.interval):
            # The flag is read before the scan: roots added during a scan are
            # handled by the next one.
            restarted = self._restart.is_set()
            if restarted:
                self._restart.clear()
                roots_before, watched = watched, self._root_prefixes()
            _, after = self.scan()
            changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
            if restarted:
                # New roots: the files only they hold are not changes; a file
                # under the roots watched before that changed or appeared
                # meanwhile is (a save right after the supervisor added the
                # new child's directories).
                changed = {
                    p
                    for p in changed
                    if p in before or p.startswith(roots_before) or p in self._extra
                }
            before = after
            if changed:
                yield changed

    def _root_prefixes(self) -> tuple[str, ...]:
        return tuple(os.path.join(r, "") for r in self.roots)
