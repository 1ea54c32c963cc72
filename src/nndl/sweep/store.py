"""A sweep's results: one SQLite file (``sweep.sqlite``) in the sweep's folder.

This is the only module that speaks SQL. The schema is versioned (``PRAGMA user_version``);
a file of another version, or a file that is not a sweep database, is refused with an error
that says so. Every write is one transaction, so a killed sweep leaves a consistent file
holding every trial that had finished.

Two ways to open it, one per job:

* a **reader** (``SweepStore(folder)``: ``nndl sweep show``, ``plot``, the first look of
  ``resume``) opens the file read-only (SQLite's ``mode=ro``), so it never writes a byte -
  not even a schema into an empty file - and waits at most ``READ_TIMEOUT`` seconds for a
  writer's lock before saying the file is locked;
* the **writer** (``SweepStore(folder, create=True)``: a running sweep) creates the file
  whole (schema written to a temporary file, then linked into place) and holds an exclusive
  lock on it (``flock``) for as long as it is open, so a second sweep into the same folder is
  refused at once, in one line, instead of running every trial again. The lock goes with the
  process, ``kill -9`` included.

Everything read is checked at this edge, once, against the shape nndl writes (columns,
types, JSON, bounds: ``nndl.limits``); what does not fit is a ``SweepFileError`` naming the
file, the trial and the field, never an exception from deep inside the figures or the table.

Tables:

* ``meta(key, value)``: ``sweep`` (the specification and data set, JSON), ``command`` (how
  to run it again), ``created``;
* ``trials``: one row per trial, ``status`` 'pending' | 'running' | 'done' | 'diverged';
  for finished trials the config, seed, swept values (``params``), per-epoch history,
  final validation accuracy (and test, only when the sweep asked), seconds, host, pid and
  times, all as the worker reported them.

A trial is finished when its status is 'done' or 'diverged' (eta too large is an answer,
and the same seeds would diverge again); 'pending' and 'running' rows are re-run on resume.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import sqlite3
import stat
from datetime import datetime, timezone
from pathlib import Path

from nndl.config import TrainConfig
from nndl.errors import ConfigError, ModelFileError, NndlError, OutputError, quote
from nndl.fileio import new_temp, output_folder
from nndl.limits import MAX_INT_DIGITS, MAX_SWEEP_META_CHARS, MAX_SWEEP_TEXT, MAX_SWEEP_TRIALS
from nndl.serialization import check_history

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: no folder lock there
    fcntl = None

FILENAME = "sweep.sqlite"
SCHEMA_VERSION = 1
FINISHED = ("done", "diverged")
STATUSES = ("pending", "running", "done", "diverged")
READ_TIMEOUT = 3.0  # seconds a reader waits for a writer's lock: a writer holds it for one short transaction
WRITE_TIMEOUT = 10.0

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE trials (
    key TEXT PRIMARY KEY,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'diverged')),
    params TEXT NOT NULL,
    config TEXT NOT NULL,
    seed INTEGER NOT NULL,
    n_train INTEGER,
    n_evaluation INTEGER,
    history TEXT,
    validation_accuracy REAL,
    test_accuracy REAL,
    seconds REAL,
    host TEXT,
    pid INTEGER,
    started TEXT,
    finished TEXT,
    error TEXT
);
CREATE INDEX trials_status ON trials (status);
"""
COLUMNS = (
    "key",
    "idx",
    "status",
    "params",
    "config",
    "seed",
    "n_train",
    "n_evaluation",
    "history",
    "validation_accuracy",
    "test_accuracy",
    "seconds",
    "host",
    "pid",
    "started",
    "finished",
    "error",
)
JSON_COLUMNS = ("params", "config", "history")
MAX_CELL = 65_536  # characters of one text cell other than a history (a host name, a time, an error)


class SweepFileError(NndlError, ValueError):
    """A sweep folder or its database cannot be used (missing, another version, not a sweep,
    locked, in use by another sweep, or holding something nndl did not write)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class _TooLong(Exception):
    pass


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _TooLong
    return int(text)


def _constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


class SweepStore:
    """Open the database of the sweep in ``folder``: read-only, or (``create=True``) as the
    one writer, creating it if absent (see the module docstring)."""

    def __init__(self, folder, *, create: bool = False):
        self.folder = Path(folder)
        self.path = self.folder / FILENAME
        self.writable = create
        self._lock_fd: int | None = None
        self.db = None
        if create:
            self._create_if_absent()
        self._check_file()
        try:
            if create:
                self._lock()
            try:
                if create:
                    self.db = sqlite3.connect(self.path, timeout=WRITE_TIMEOUT)
                else:  # read-only: never writes a byte, not even a schema into an empty file
                    uri = Path(os.path.abspath(self.path)).as_uri() + "?mode=ro"
                    self.db = sqlite3.connect(uri, uri=True, timeout=READ_TIMEOUT)
            except sqlite3.Error as e:
                raise SweepFileError(f"{self.path}: cannot open it as a database ({e})") from None
            self._check_schema()
        except BaseException:
            self.close()
            raise

    # -- opening ----------------------------------------------------------------------------
    def _create_if_absent(self) -> None:
        """Make the file whole: the schema goes into a temporary file, linked into place only if
        no file is there (two sweeps starting at once: one file, the other's temporary removed)."""
        try:
            output_folder(self.folder)  # fileio's rule: an existing folder, or the last folder of the path made
        except OutputError as e:
            raise SweepFileError(f"{self.folder}: {e.strerror}; give a folder for the sweep") from None
        if os.path.lexists(self.path):
            return
        tmp = new_temp(self.folder, FILENAME)
        try:
            db = sqlite3.connect(tmp)
            try:
                with db:
                    db.executescript(_SCHEMA)
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    db.execute("INSERT INTO meta VALUES ('created', ?)", (json.dumps(_now()),))
            finally:
                db.close()
            with contextlib.suppress(FileExistsError):
                os.link(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    def _check_file(self) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise SweepFileError(
                f"{self.folder}: no {FILENAME} here; give the folder of a sweep made by nndl sweep"
            ) from None
        except NotADirectoryError:
            raise SweepFileError(
                f"{self.folder}: not a folder; give the folder of a sweep made by nndl sweep"
            ) from None
        if not stat.S_ISREG(st.st_mode):  # a folder, a FIFO (opening it would wait forever), a device
            raise SweepFileError(f"{self.path}: not a regular file, so not a sweep database")
        if st.st_size == 0:
            raise SweepFileError(
                f"{self.path}: an empty file (0 bytes), not a sweep database; nndl sweep "
                f"writes a whole one, so this file was made by something else: remove it"
            )

    def _lock(self) -> None:
        """Hold an exclusive lock on the file while this writer is open (released by the OS when the
        process ends, however it ends)."""
        if fcntl is None:  # pragma: no cover
            return
        self._lock_fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepFileError(
                f"{self.folder}: another nndl sweep is running in this folder now (it holds "
                f"{FILENAME}'s lock); wait for it to finish - nndl sweep show {self.folder} "
                f"shows its progress - or choose another --out folder"
            ) from None

    def _sql(self, sql: str, params=()) -> list:
        """Run a query, every row fetched; SQLite's errors become ``SweepFileError``."""
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                raise SweepFileError(
                    f"{self.path}: locked by another process writing to it (waited "
                    f"{READ_TIMEOUT if not self.writable else WRITE_TIMEOUT:g} s); try again "
                    f"in a moment"
                ) from None
            raise SweepFileError(f"{self.path}: not a sweep database nndl can read ({e})") from None
        except sqlite3.Error as e:
            raise SweepFileError(f"{self.path}: not a sweep database nndl can read ({e})") from None

    def _check_schema(self) -> None:
        version = self._sql("PRAGMA user_version")[0][0]
        tables = {r[0] for r in self._sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"meta", "trials"} <= tables:
            raise SweepFileError(f"{self.path}: not a sweep database (no trials table)")
        if version != SCHEMA_VERSION:
            raise SweepFileError(
                f"{self.path}: sweep database schema version {version}, but this nndl reads version {SCHEMA_VERSION}"
            )
        for table, want in (("meta", ("key", "value")), ("trials", COLUMNS)):
            have = tuple(r[1] for r in self._sql(f"PRAGMA table_info({table})"))
            if sorted(have) != sorted(want):
                extra = sorted(set(have) - set(want))
                missing = sorted(set(want) - set(have))
                raise SweepFileError(
                    f"{self.path}: not a sweep database nndl wrote: its {table} table has "
                    + (
                        f"columns it does not write ({quote(extra, 60)})"
                        if extra
                        else f"no column {quote(missing[0], 40)}"
                    )
                )

    # -- meta -----------------------------------------------------------------------------
    def get_meta(self, key: str):
        """The JSON value stored under ``key`` (None when absent); bounded and checked."""
        size = self._sql("SELECT LENGTH(value) FROM meta WHERE key = ?", (key,))
        if not size:
            return None
        if (size[0][0] or 0) > MAX_SWEEP_META_CHARS:  # measured before it is read
            raise SweepFileError(
                f"{self.path}: its {key} record is {size[0][0]:,} characters, more than the "
                f"{MAX_SWEEP_META_CHARS:,} nndl writes"
            )
        rows = self._sql("SELECT value FROM meta WHERE key = ?", (key,))
        return self._json(rows[0][0], f"its {key} record", MAX_SWEEP_META_CHARS)

    def set_meta(self, key: str, value) -> None:
        self._write("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def _write(self, sql: str, params=(), many: bool = False) -> int:
        """One write in its own transaction; returns the rows changed. SQLite's errors (a read-only or
        full disk, a lock held too long) become ``SweepFileError``."""
        try:
            with self.db:
                cur = (self.db.executemany if many else self.db.execute)(sql, params)
                return cur.rowcount
        except sqlite3.Error as e:
            raise SweepFileError(f"{self.path}: cannot write the sweep's results ({e})") from None

    def _json(self, text, what: str, limit: int):
        if not isinstance(text, str):
            raise SweepFileError(f"{self.path}: {what} is not JSON text (found {_kind(text)})")
        if len(text) > limit:
            raise SweepFileError(
                f"{self.path}: {what} is {len(text):,} characters, more than the {limit:,} nndl writes"
            )
        try:
            return json.loads(text, parse_int=_parse_int, parse_constant=_constant)
        except _TooLong:
            raise SweepFileError(f"{self.path}: {what} holds an integer of more than {MAX_INT_DIGITS} digits") from None
        except RecursionError:
            raise SweepFileError(f"{self.path}: {what} is JSON nested too deeply") from None
        except ValueError as e:  # JSONDecodeError, NaN or Infinity
            raise SweepFileError(f"{self.path}: {what} is not valid JSON ({quote(str(e), 80)[1:-1]})") from None

    # -- trials ---------------------------------------------------------------------------
    def add_trials(self, trials) -> None:
        """Record every trial of the sweep as 'pending' unless it is already recorded."""
        self._write(
            "INSERT OR IGNORE INTO trials (key, idx, status, params, config, seed) VALUES (?, ?, 'pending', ?, ?, ?)",
            [
                (t.key, i, json.dumps(t.label), json.dumps(t.config.to_dict()), t.config.seed)
                for i, t in enumerate(trials)
            ],
            many=True,
        )

    def finished_keys(self) -> set[str]:
        return {
            r[0]
            for r in self._sql(f"SELECT key FROM trials WHERE status IN ({','.join('?' * len(FINISHED))})", FINISHED)
        }

    def mark_running(self, key: str) -> None:
        self._write("UPDATE trials SET status = 'running', started = ? WHERE key = ?", (_now(), key))

    def write_result(self, result: dict) -> None:
        """Store a finished trial's result (``nndl.sweep.trial.run_trial``), in one transaction."""
        final = result["final"]
        changed = self._write(
            "UPDATE trials SET status = 'done', config = ?, n_train = ?, n_evaluation = ?, history = ?, "
            "validation_accuracy = ?, test_accuracy = ?, seconds = ?, host = ?, pid = ?, started = ?, "
            "finished = ?, error = NULL WHERE key = ?",
            (
                json.dumps(result["config"]),
                result["n_train"],
                result["n_evaluation"],
                json.dumps(result["history"]),
                final.get("validation_accuracy"),
                final.get("test_accuracy"),
                result["seconds"],
                result["host"],
                result["pid"],
                result["started"],
                result["finished"],
                result["key"],
            ),
        )
        if changed != 1:
            raise SweepFileError(f"{self.path}: no trial {result['key']} to record")

    def write_diverged(self, key: str, message: str) -> None:
        self._write(
            "UPDATE trials SET status = 'diverged', error = ?, finished = ? WHERE key = ?", (message, _now(), key)
        )

    def rows(self, *, finished_only: bool = True) -> list[dict]:
        """The trials as dicts (JSON columns decoded), in the sweep's order; every row is checked
        against the shape nndl writes (``SweepFileError`` names the first that is not)."""
        total, text = self._sql(
            "SELECT COUNT(*), " + " + ".join(f"TOTAL(LENGTH({c}))" for c in COLUMNS) + " FROM trials"
        )[0]  # every cell's text (or bytes) counted before any is read
        if total > MAX_SWEEP_TRIALS:
            raise SweepFileError(f"{self.path}: {total:,} trials, more than the {MAX_SWEEP_TRIALS:,} a sweep may have")
        if text > MAX_SWEEP_TEXT:
            raise SweepFileError(
                f"{self.path}: its trials hold {text / 2**20:,.0f} MiB of text, more than the "
                f"{MAX_SWEEP_TEXT // 2**20} MiB nndl reads from a sweep database"
            )
        where = f"WHERE status IN ({','.join('?' * len(FINISHED))})" if finished_only else ""
        out = [
            self._check_row(dict(zip(COLUMNS, r)))
            for r in self._sql(
                f"SELECT {', '.join(COLUMNS)} FROM trials {where} ORDER BY idx", FINISHED if finished_only else ()
            )
        ]
        keys = [r["key"] for r in out]
        if len(set(keys)) != len(keys):
            raise SweepFileError(f"{self.path}: two trials have the same key; nndl writes one row per trial")
        return out

    def counts(self) -> dict[str, int]:
        counts = {r[0]: r[1] for r in self._sql("SELECT status, COUNT(*) FROM trials GROUP BY status")}
        bad = [s for s in counts if s not in STATUSES]
        if bad:
            raise SweepFileError(
                f"{self.path}: a trial's status is {quote(bad[0], 40)}; nndl writes {', '.join(STATUSES)}"
            )
        return counts

    def _check_row(self, r: dict) -> dict:
        """One trial row as nndl writes it, or ``SweepFileError`` naming the trial and the field."""
        key = r["key"]
        if not isinstance(key, str) or not 0 < len(key) <= 64:
            raise SweepFileError(f"{self.path}: a trial's key is {quote(key, 40)}; nndl writes a short text")
        where = f"{self.path}: trial {quote(key, 20)}"

        def bad(what: str, value, allowed: str):
            raise SweepFileError(f"{where}: {what} is {quote(value, 40)}; nndl writes {allowed}")

        for k, v in r.items():  # nndl writes text, numbers and nulls: a blob is an edit, whatever the status
            if isinstance(v, bytes):
                bad(k, v, "text, a number or null, never a blob")
        if not _is_int(r["idx"]) or r["idx"] < 0:
            bad("idx", r["idx"], "an integer >= 0")
        if r["status"] not in STATUSES:
            bad("status", r["status"], " or ".join(STATUSES))
        for k in JSON_COLUMNS:
            if r[k] is not None:
                r[k] = self._json(r[k], f"trial {quote(key, 20)}'s {k}", MAX_SWEEP_TEXT)
        config = r["config"]
        if not isinstance(config, dict):
            bad("config", config, "a JSON object of TrainConfig's fields")
        missing = [f.name for f in dataclasses.fields(TrainConfig) if f.name not in config]
        if missing:
            raise SweepFileError(
                f"{where}: its config has no {', '.join(missing[:5])}"
                + (f" (and {len(missing) - 5} more)" if len(missing) > 5 else "")
                + "; nndl records every TrainConfig field"
            )
        try:
            r["config"] = TrainConfig.from_dict(config).to_dict()
        except (ConfigError, TypeError) as e:
            raise SweepFileError(f"{where}: its config is not one nndl can run: {e}") from None
        if not _is_int(r["seed"]) or r["seed"] != r["config"]["seed"]:
            bad("seed", r["seed"], f"the config's seed ({r['config']['seed']})")
        params = r["params"]
        if not isinstance(params, dict) or "seed" not in params:
            bad("params", params, "a JSON object of the swept fields and the seed")
        for name, value in params.items():
            if name not in r["config"] or value != r["config"][name]:
                bad(f"params {quote(name, 30)}", value, "the value of that field in the trial's config")
        for k in ("host", "started", "finished", "error"):
            if r[k] is not None and (not isinstance(r[k], str) or len(r[k]) > MAX_CELL):
                bad(k, r[k], f"text of at most {MAX_CELL:,} characters, or null")
        if r["pid"] is not None and not _is_int(r["pid"]):
            bad("pid", r["pid"], "an integer or null")
        for k in ("validation_accuracy", "test_accuracy"):  # whatever the status: the table sorts on them
            v = r[k]
            if v is not None and not (_is_real(v) and 0.0 <= v <= 1.0):
                bad(k, v, "a fraction from 0 to 1, or null")
        for k in ("n_train", "n_evaluation"):  # whatever the status: show --json prints them
            if r[k] is not None and (not _is_int(r[k]) or r[k] < 0):
                bad(k, r[k], "an integer >= 0, or null")
        if r["seconds"] is not None and (not _is_real(r["seconds"]) or r["seconds"] < 0):
            bad("seconds", r["seconds"], "a number >= 0, or null")
        if r["status"] == "done":
            self._check_result(r, where, bad)
        elif r["status"] == "diverged" and not isinstance(r["error"], str):
            bad("error", r["error"], "why the trial diverged, as text")
        return r

    def _check_result(self, r: dict, where: str, bad) -> None:
        """A finished trial's numbers: what the table and the figures read."""
        if not isinstance(r["history"], dict):
            bad("history", r["history"], "a JSON object of per-epoch lists")
        try:
            check_history(r["history"], where)
        except ModelFileError as e:
            raise SweepFileError(str(e).replace("not a valid model file: ", "")) from None
        for k in ("n_train", "n_evaluation"):
            if not _is_int(r[k]) or r[k] < 0:
                bad(k, r[k], "an integer >= 0")
        if r["validation_accuracy"] is None:
            bad("validation_accuracy", None, "a fraction from 0 to 1")
        if not _is_real(r["seconds"]) or r["seconds"] < 0:
            bad("seconds", r["seconds"], "a number >= 0")

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _kind(value) -> str:
    return {bytes: "binary data", int: "a number", float: "a number", type(None): "null"}.get(
        type(value), type(value).__name__
    )
