"""A sweep's results: one SQLite file (``sweep.sqlite``) in the sweep's folder.

This is the only module that speaks SQL. The schema is versioned (``PRAGMA user_version``);
a file of another version, or a file that is not a sweep database, is refused with an error
that says so. Every write is one transaction, so a killed sweep leaves a consistent file
holding every trial that had finished.

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

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from nndl.errors import NndlError

FILENAME = "sweep.sqlite"
SCHEMA_VERSION = 1
FINISHED = ("done", "diverged")

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


class SweepFileError(NndlError, ValueError):
    """A sweep folder or its database cannot be used (missing, another version, not a sweep)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class SweepStore:
    """Open (``create=True``: or create) the database of the sweep in ``folder``."""

    def __init__(self, folder, *, create: bool = False):
        self.folder = Path(folder)
        self.path = self.folder / FILENAME
        if not self.path.is_file():
            if not create:
                raise SweepFileError(f"{self.folder}: no {FILENAME} here; give the folder of a sweep "
                                     f"made by nndl sweep")
            self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.row_factory = sqlite3.Row
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as e:
            raise SweepFileError(f"{self.path}: not a sweep database ({e})") from None
        if not tables and version == 0:
            with self.db:
                self.db.executescript(_SCHEMA)
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self.db.execute("INSERT INTO meta VALUES ('created', ?)", (_now(),))
        elif version != SCHEMA_VERSION or not {"meta", "trials"} <= tables:
            self.db.close()
            raise SweepFileError(f"{self.path}: sweep database schema version {version}, but this nndl reads "
                                 f"version {SCHEMA_VERSION}" if {"meta", "trials"} <= tables else
                                 f"{self.path}: not a sweep database (no trials table)")

    # -- meta -----------------------------------------------------------------------------
    def get_meta(self, key: str):
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_meta(self, key: str, value) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    # -- trials ---------------------------------------------------------------------------
    def add_trials(self, trials) -> None:
        """Record every trial of the sweep as 'pending' unless it is already recorded."""
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO trials (key, idx, status, params, config, seed) VALUES (?, ?, 'pending', ?, ?, ?)",
                [(t.key, i, json.dumps(t.label), json.dumps(t.config.to_dict()), t.config.seed)
                 for i, t in enumerate(trials)])

    def finished_keys(self) -> set[str]:
        return {r[0] for r in self.db.execute(
            f"SELECT key FROM trials WHERE status IN ({','.join('?' * len(FINISHED))})", FINISHED)}

    def mark_running(self, key: str) -> None:
        with self.db:
            self.db.execute("UPDATE trials SET status = 'running', started = ? WHERE key = ?", (_now(), key))

    def write_result(self, result: dict) -> None:
        """Store a finished trial's result (``nndl.sweep.trial.run_trial``), in one transaction."""
        final = result["final"]
        with self.db:
            cur = self.db.execute(
                "UPDATE trials SET status = 'done', config = ?, n_train = ?, n_evaluation = ?, history = ?, "
                "validation_accuracy = ?, test_accuracy = ?, seconds = ?, host = ?, pid = ?, started = ?, "
                "finished = ?, error = NULL WHERE key = ?",
                (json.dumps(result["config"]), result["n_train"], result["n_evaluation"],
                 json.dumps(result["history"]), final.get("validation_accuracy"), final.get("test_accuracy"),
                 result["seconds"], result["host"], result["pid"], result["started"], result["finished"],
                 result["key"]))
            if cur.rowcount != 1:
                raise SweepFileError(f"{self.path}: no trial {result['key']} to record")

    def write_diverged(self, key: str, message: str) -> None:
        with self.db:
            self.db.execute("UPDATE trials SET status = 'diverged', error = ?, finished = ? WHERE key = ?",
                            (message, _now(), key))

    def rows(self, *, finished_only: bool = True) -> list[dict]:
        """The trials as dicts (JSON columns decoded), in the sweep's order."""
        where = f"WHERE status IN ({','.join('?' * len(FINISHED))})" if finished_only else ""
        out = []
        for r in self.db.execute(f"SELECT * FROM trials {where} ORDER BY idx", FINISHED if finished_only else ()):
            d = dict(r)
            for k in ("params", "config", "history"):
                d[k] = json.loads(d[k]) if d[k] is not None else None
            out.append(d)
        return out

    def counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db.execute("SELECT status, COUNT(*) FROM trials GROUP BY status")}

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
