"""What a sweep tries: values for any ``TrainConfig`` field, seeds, and the data each trial sees.

Chapter 3 of "Neural Networks and Deep Learning" ("How to choose a neural network's
hyper-parameters?") chooses eta first, from training-cost curves, then lambda and the rest;
and it starts broad: a subset of the training data, fewer epochs, a smaller validation
set, so that each trial takes seconds. A :class:`SweepSpec` says all of that:

* ``values``: field -> the values to try. A field with one value is fixed; with several it
  is swept, as a grid (every combination) or, with ``random`` N, as choices;
* ``ranges``: field -> a :class:`Range` drawn ``random`` times, log-uniform for eta and
  lambda (they matter by orders of magnitude: 0.025, 0.25, 2.5), uniform otherwise;
* ``seeds``: every combination runs once per seed; one seed fixes the initial weights and
  the mini-batch order (``nndl.config.rng_streams``), so trials with the same seed are
  paired: they differ only in the swept values;
* ``n_train`` / ``n_validation``: the first n images of each split; ``test``: also measure
  the test set at the end (off by default: choosing by test accuracy overfits the test set).

Fields are found with ``dataclasses.fields(TrainConfig)`` and values parsed by each
field's type, so fields the engine gains are sweepable without a change here. Every trial's
config is built - and so validated - before any trial runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import numbers
import types
import typing
from dataclasses import dataclass, field

import numpy as np

from nndl.config import TrainConfig, check_int, check_sizes_fit, flag_of
from nndl.errors import ConfigError, quote
from nndl.limits import MAX_SWEEP_TRIALS

from .trial import MONITORS, Trial

LOG_UNIFORM = ("eta", "lmbda")  # drawn log-uniformly from a range
NOT_SWEPT = ("seed",)  # the seed is --seeds (it pairs trials)
WHOLE = ("layers",)  # a layer description holds commas and colons: each text given is one whole value
DEFAULT_MONITOR = ("evaluation_accuracy", "training_cost")  # training cost draws the book's eta figure


def field_types() -> dict[str, object]:
    """Every ``TrainConfig`` field and its type (annotations resolved)."""
    hints = typing.get_type_hints(TrainConfig)
    return {f.name: hints[f.name] for f in dataclasses.fields(TrainConfig)}


def sweepable() -> list[str]:
    return [f for f in field_types() if f not in NOT_SWEPT]


def flag(name: str) -> str:
    """The command-line flag of a field: mini_batch_size -> --mini-batch-size."""
    return flag_of(name)


def _unknown(name) -> ConfigError:
    return ConfigError(
        f"unknown field {name!r}: a sweep varies TrainConfig fields, which are "
        f"{', '.join(sweepable())} (and the seed, through seeds)"
    )


def _base_type(tp):
    """(type, optional): int | None -> (int, True)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def is_tuple(name: str) -> bool:
    return typing.get_origin(_base_type(field_types()[name])[0]) is tuple


def parse_value(name: str, text: str):
    """One value of field ``name`` from text, by the field's type; ``ConfigError`` if it is not one."""
    types_ = field_types()
    if name not in types_:
        raise _unknown(name)
    tp, optional = _base_type(types_[name])
    text = text.strip()
    if optional and text.lower() == "none":
        return None
    try:
        if tp is bool:
            low = text.lower()
            if low in ("true", "yes", "1", "on"):
                return True
            if low in ("false", "no", "0", "off"):
                return False
            raise ValueError
        if tp is int:
            return int(text)
        if tp is float:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
        if tp is str:
            if not text:
                raise ValueError
            return text
        if typing.get_origin(tp) is tuple and typing.get_args(tp)[:1] == (int,):
            return tuple(int(p) for p in text.split(","))
        if typing.get_origin(tp) is typing.Literal:
            if text in typing.get_args(tp):
                return text
            raise ValueError
    except ValueError:
        what = {int: "an integer", float: "a finite number", str: "a name", bool: "true or false"}.get(
            tp, "a comma-separated list of integers" if typing.get_origin(tp) is tuple else str(tp)
        )
        raise ConfigError(f"{flag(name)}: {text!r} is not {what}" + (" (or none)" if optional else "")) from None
    raise ConfigError(f"{flag(name)}: the field {name} (of type {tp}) cannot be given on the command line")


@dataclass(frozen=True)
class Range:
    """An interval to draw from with ``--random``: [lo, hi], log-uniform where ``log``."""

    lo: float
    hi: float
    log: bool = False

    def draw(self, rng: np.random.Generator, integer: bool):
        if integer:
            return int(rng.integers(int(self.lo), int(self.hi) + 1))
        if self.log:
            x = math.exp(rng.uniform(math.log(self.lo), math.log(self.hi)))
        else:
            x = rng.uniform(self.lo, self.hi)
        return float(f"{x:.3g}")  # three significant digits: readable in tables, still a fine draw


def parse_range(name: str, text: str) -> Range:
    """'LO:HI' for a numeric field -> Range (log-uniform for eta and lmbda)."""
    tp, _ = _base_type(field_types()[name])
    if tp not in (int, float):
        raise ConfigError(f"{flag(name)}: {text!r} is a range, but {name} is not a number; give a comma list")
    lo_text, _, hi_text = text.partition(":")
    lo, hi = parse_value(name, lo_text), parse_value(name, hi_text)
    if lo is None or hi is None or not lo < hi:
        raise ConfigError(f"{flag(name)}: bad range {text!r}: write LO:HI with LO < HI, e.g. 0.01:10")
    log = name in LOG_UNIFORM
    if log and lo <= 0:
        raise ConfigError(
            f"{flag(name)}: bad range {text!r}: {name} is drawn log-uniformly, so LO must be "
            f"> 0 (e.g. 0.001:10); to include {name} 0, give a comma list such as 0,0.1,1,10"
        )
    return Range(float(lo), float(hi), log)


def parse_field(name: str, texts: list[str]):
    """The values given for one field on the command line: a tuple of values, or a Range.

    Each text is a comma-separated list (``0.025,0.25,2.5``), or ``LO:HI`` for a range;
    for a tuple field such as ``sizes`` each text is one value (``784,30,10 784,100,10``), and so
    for a layer description (``--layers conv:20x5x5,pool:2,dense:100``: one conv net, fixed).
    """
    if name not in field_types() or name in NOT_SWEPT:
        raise _unknown(name)
    if name in WHOLE:
        if not texts or any(not t.strip() for t in texts):
            raise ConfigError(
                f"{flag(name)}: empty value; give a layer description, e.g. {flag(name)} conv:20x5x5,pool:2,dense:100"
            )
        return tuple(dict.fromkeys(parse_value(name, t) for t in texts))
    if len(texts) == 1 and ":" in texts[0]:
        return parse_range(name, texts[0])
    if is_tuple(name):
        pieces = [t for t in texts]
    else:
        pieces = [p for t in texts for p in t.split(",")]
    if not pieces or any(not p.strip() for p in pieces):
        raise ConfigError(
            f"{flag(name)}: empty value in {' '.join(texts)!r}; give one or more values "
            f"separated by commas, e.g. {flag(name)} 1,2,3"
        )
    if any(":" in p for p in pieces):
        raise ConfigError(f"{flag(name)}: a range LO:HI stands alone, not inside a list: {' '.join(texts)!r}")
    values = []
    for p in pieces:
        v = parse_value(name, p)
        if v not in values:
            values.append(v)
    return tuple(values)


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _plain(v):
    return list(v) if isinstance(v, tuple) else v


@dataclass(frozen=True)
class SweepSpec:
    """A whole sweep (see the module docstring); validated when made."""

    values: dict = field(default_factory=dict)  # field -> tuple of values
    ranges: dict = field(default_factory=dict)  # field -> Range
    seeds: tuple = (0,)
    random: int | None = None
    random_seed: int = 0
    n_train: int | None = None
    n_validation: int | None = None
    test: bool = False
    monitor: tuple = DEFAULT_MONITOR

    def __post_init__(self):
        known = field_types()
        for name in list(self.values) + list(self.ranges):
            if name not in known or name in NOT_SWEPT:
                raise _unknown(name)
        both = sorted(set(self.values) & set(self.ranges))
        if both:
            raise ConfigError(f"{flag(both[0])}: give either values or a range, not both")
        values = {}
        for name, vals in self.values.items():
            vals = (vals,) if isinstance(vals, (str, numbers.Number)) or vals is None else tuple(vals)
            if not vals:
                raise ConfigError(f"{flag(name)}: empty list; give at least one value")
            values[name] = tuple(tuple(v) if isinstance(v, list) else v for v in vals)
        object.__setattr__(self, "values", values)
        for name, vals in values.items():  # what a sweep.sqlite can record, and so read back
            odd = [v for v in vals if not _plain_value(_plain(v))]
            if odd:
                raise ConfigError(
                    f"{flag(name)} {quote(odd[0], 40)}: a value must be a number (an integer of at most "
                    f"128 bits), a name of at most 1,000 characters, true/false, none, or a list of at "
                    f"most 1,000 integers"
                )
        for name, r in self.ranges.items():
            if not isinstance(r, Range) or not r.lo < r.hi:
                raise ConfigError(f"{flag(name)}: bad range {r!r}: need Range(lo, hi) with lo < hi")
            if r.log and r.lo <= 0:
                raise ConfigError(f"{flag(name)}: bad range: a log-uniform range needs lo > 0, got {r.lo:g}")
        seeds = tuple(self.seeds) if not isinstance(self.seeds, numbers.Integral) else (self.seeds,)
        if not seeds:
            raise ConfigError("--seeds: empty list; give at least one seed, e.g. --seeds 0,1,2")
        object.__setattr__(self, "seeds", tuple(dict.fromkeys(check_int("seed", s, 0) for s in seeds)))
        counts = [
            ("--random-seed", self.random_seed),
            ("--random", self.random),
            ("--train-size", self.n_train),
            ("--validation-size", self.n_validation),
        ]
        for what, n in [("--seeds", s) for s in self.seeds] + counts:
            if isinstance(n, int) and n.bit_length() > 128:
                raise ConfigError(f"{what}: {quote(n, 40)} is more than a sweep records (integers of at most 128 bits)")
        if self.random is not None:
            check_int("--random", self.random, 1)
            if not self.ranges and not any(len(v) > 1 for v in values.values()):
                raise ConfigError("--random N draws from ranges (e.g. --eta 0.01:10) or lists; none was given")
        elif self.ranges:
            name = next(iter(self.ranges))
            raise ConfigError(
                f"{flag(name)}: a range is drawn from at random: add --random N "
                f"(or give a comma list of values for a grid)"
            )
        check_int("--random-seed", self.random_seed, 0)
        for what, n in (("--train-size", self.n_train), ("--validation-size", self.n_validation)):
            if n is not None:
                check_int(what, n, 1)
        bad = [m for m in self.monitor if m not in MONITORS]
        if bad:
            raise ConfigError(f"unknown monitor {bad}; choose from {', '.join(MONITORS)}")
        object.__setattr__(self, "monitor", tuple(self.monitor))
        types_ = field_types()
        for name, r in self.ranges.items():  # an integer field's draws must be integers NumPy can draw
            if _base_type(types_[name])[0] is int and not -(2**62) <= r.lo < r.hi <= 2**62:
                raise ConfigError(
                    f"{flag(name)}: bad range {r.lo:g}:{r.hi:g}: {name} is an integer, drawn from "
                    f"-2**62 to 2**62 at most"
                )
        n = self.count()
        if n > MAX_SWEEP_TRIALS:  # counted, never enumerated: a grid of 10^9 is refused at once
            raise ConfigError(
                f"this sweep has {n:,} trials ({self._count_how()}), more than the "
                f"{MAX_SWEEP_TRIALS:,} one sweep may have: each trial is a whole training run (10,000 "
                f"short ones take half an hour on two cores); sweep fewer values, or draw --random N "
                f"of them"
            )
        object.__setattr__(self, "_trials", tuple(self._make_trials()))  # every config is built and checked now

    # -- what is swept ------------------------------------------------------------------
    def count(self) -> int:
        """How many trials this sweep has at most (before duplicates are dropped), counted without
        making them: the grid's size, or the random draws, times the seeds."""
        combos = self.random if self.random is not None else math.prod(len(self.values[f]) for f in self.swept())
        return combos * len(self.seeds)

    def _count_how(self) -> str:
        seeds = f" x {len(self.seeds):,} seeds" if len(self.seeds) > 1 else ""
        if self.random is not None:
            return f"{self.random:,} random draws{seeds}"
        return " x ".join(f"{len(self.values[f]):,} {f}" for f in self.swept()) + seeds

    def swept(self) -> list[str]:
        """Fields that vary between trials, in TrainConfig's order."""
        return [f for f in field_types() if f in self.ranges or len(self.values.get(f, ())) > 1]

    def fixed(self) -> dict:
        """Fields given one value: the same in every trial."""
        return {f: v[0] for f, v in self.values.items() if len(v) == 1}

    def combinations(self) -> list[dict]:
        """The swept values of each trial (before seeds): a grid, or ``random`` draws."""
        swept = self.swept()
        if self.random is None:
            return [dict(zip(swept, combo)) for combo in itertools.product(*(self.values[f] for f in swept))]
        rng = np.random.default_rng(self.random_seed)
        types_ = field_types()
        draws, seen = [], set()
        for _ in range(self.random):
            d = {}
            for f in swept:
                if f in self.ranges:
                    d[f] = self.ranges[f].draw(rng, _base_type(types_[f])[0] is int)
                else:
                    d[f] = self.values[f][int(rng.integers(len(self.values[f])))]
            text = _canonical(d)  # a set of the draws' JSON: linear, where `d in draws` was quadratic
            if text not in seen:
                seen.add(text)
                draws.append(d)
        return draws

    def trials(self) -> list[Trial]:
        """One Trial per combination and seed, in a fixed order (made, and checked, once: when the
        spec was)."""
        return list(self._trials)

    def _make_trials(self) -> list[Trial]:
        """The trials; raises ``ConfigError`` for a value TrainConfig refuses, naming the flag."""
        base = TrainConfig()
        fixed = self.fixed()
        out, seen = [], set()
        for combo in self.combinations():
            for seed in self.seeds:
                changes = {**fixed, **combo, "seed": seed}
                try:
                    config = base.replace(**changes)
                except ConfigError as e:
                    where = f"{flag(e.field)} {_show(changes[e.field])}: " if e.field in changes else ""
                    raise ConfigError(f"{where}{e}", field=e.field) from None
                trial = self._trial(config, {**combo, "seed": seed})
                if trial.key not in seen:
                    seen.add(trial.key)
                    out.append(trial)
        return out

    def _trial(self, config: TrainConfig, label: dict) -> Trial:
        finals = ("validation", "test") if self.test else ("validation",)
        ident = {
            "config": config.to_dict(),
            "n_train": self.n_train,
            "n_validation": self.n_validation,
            "finals": list(finals),
            "monitor": list(self.monitor),
        }
        key = hashlib.sha256(_canonical(ident).encode()).hexdigest()[:16]
        return Trial(
            key=key,
            config=config,
            n_train=self.n_train,
            n_validation=self.n_validation,
            monitor=self.monitor,
            finals=finals,
            label={k: _plain(v) for k, v in label.items()},
        )

    # -- checks against the data, and storage -------------------------------------------
    def check_data(self, splits) -> None:
        """Subsets no larger than the splits, layer sizes that fit the images and classes."""
        for what, n, split in (
            ("--train-size", self.n_train, splits.training),
            ("--validation-size", self.n_validation, splits.validation),
        ):
            if n is not None and n > len(split):
                raise ConfigError(f"{what} {n}: the data set has only {len(split):,} images in that split")
        for sizes in {t.config.sizes for t in self.trials()}:
            try:
                check_sizes_fit(sizes, splits)
            except ConfigError as e:
                raise ConfigError(f"--sizes {_show(sizes)}: {e.detail}", field="sizes", detail=e.detail) from None

    def to_dict(self) -> dict:
        return {
            "values": {k: [_plain(v) for v in vs] for k, vs in self.values.items()},
            "ranges": {k: dataclasses.asdict(r) for k, r in self.ranges.items()},
            "seeds": list(self.seeds),
            "random": self.random,
            "random_seed": self.random_seed,
            "n_train": self.n_train,
            "n_validation": self.n_validation,
            "test": self.test,
            "monitor": list(self.monitor),
        }

    @classmethod
    def from_dict(cls, d) -> SweepSpec:
        """Inverse of ``to_dict``, for a specification read from a file: every key and the type of every
        value is checked here (``ConfigError`` names the first that is wrong), then the spec validates
        itself as one made on the command line does - its size first."""
        if not isinstance(d, dict):
            raise ConfigError(f"a sweep specification must be a JSON object, got {quote(d, 40)}")
        unknown = sorted(map(str, set(d) - set(SPEC_KEYS)))
        if unknown:
            raise ConfigError(
                f"unknown key {quote(unknown[0], 40)} in the sweep specification; its keys are {', '.join(SPEC_KEYS)}"
            )
        values = _mapping(d.get("values", {}), "values")
        for name, vals in values.items():
            if not isinstance(vals, list) or not all(_plain_value(v) for v in vals):
                raise ConfigError(
                    f"values of {quote(name, 40)} must be a list of numbers, names, true/false, null "
                    f"or lists of integers, got {quote(vals, 60)}"
                )
        ranges = {}
        for name, r in _mapping(d.get("ranges", {}), "ranges").items():
            if (
                not isinstance(r, dict)
                or not {"lo", "hi"} <= set(r) <= {"lo", "hi", "log"}
                or not all(_number(r[k]) for k in ("lo", "hi"))
                or not isinstance(r.get("log", False), bool)
            ):
                raise ConfigError(
                    f"the range of {quote(name, 40)} must be {{\"lo\": number, \"hi\": number, "
                    f"\"log\": true/false}}, got {quote(r, 60)}"
                )
            ranges[name] = Range(float(r["lo"]), float(r["hi"]), r.get("log", False))
        seeds = d.get("seeds", [0])
        if not isinstance(seeds, list) or not all(_integer(s) for s in seeds):
            raise ConfigError(f"seeds must be a list of integers, got {quote(seeds, 60)}")
        for key in ("random", "n_train", "n_validation"):
            if d.get(key) is not None and not _integer(d[key]):
                raise ConfigError(f"{key} must be an integer or null, got {quote(d[key], 40)}")
        if not _integer(d.get("random_seed", 0)):
            raise ConfigError(f"random_seed must be an integer, got {quote(d['random_seed'], 40)}")
        if not isinstance(d.get("test", False), bool):
            raise ConfigError(f"test must be true or false, got {quote(d['test'], 40)}")
        monitor = d.get("monitor", list(DEFAULT_MONITOR))
        if not isinstance(monitor, list) or not all(isinstance(m, str) for m in monitor):
            raise ConfigError(f"monitor must be a list of names, got {quote(monitor, 60)}")
        return cls(
            values=values,
            ranges=ranges,
            seeds=tuple(seeds),
            random=d.get("random"),
            random_seed=d.get("random_seed", 0),
            n_train=d.get("n_train"),
            n_validation=d.get("n_validation"),
            test=d.get("test", False),
            monitor=tuple(monitor),
        )

    def digest(self) -> str:
        """A short fingerprint: the same spec (and engine defaults) gives the same digest."""
        return hashlib.sha256(
            _canonical({"spec": self.to_dict(), "base": TrainConfig().to_dict()}).encode()
        ).hexdigest()[:8]

    def default_name(self) -> str:
        """A folder name for this sweep: the swept fields and the digest, e.g. eta-lmbda-1a2b3c4d."""
        return "-".join(self.swept() or ["single"]) + "-" + self.digest()


SPEC_KEYS = ("values", "ranges", "seeds", "random", "random_seed", "n_train", "n_validation", "test", "monitor")


def _mapping(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{what} must be an object of field names, got {quote(value, 40)}")
    return value


def _integer(v) -> bool:
    """A JSON integer of at most 128 bits (beyond that, no field of a sweep means anything)."""
    return isinstance(v, int) and not isinstance(v, bool) and v.bit_length() <= 128


def _number(v) -> bool:
    return _integer(v) or (isinstance(v, float) and math.isfinite(v))


def _plain_value(v) -> bool:
    """One value of a field as a file may hold it: a number, a name, true/false, null, a list of integers."""
    if v is None or isinstance(v, bool) or _number(v):
        return True
    if isinstance(v, str):
        return len(v) <= 1000
    return isinstance(v, list) and len(v) <= 1000 and all(_integer(x) for x in v)


def _show(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def value_text(v) -> str:
    """A field's value as tables, labels and figures show it: 784,30,10 for sizes, 0.5 for eta."""
    if isinstance(v, (list, tuple)):
        return ",".join(map(str, v))
    return f"{v:g}" if isinstance(v, float) else str(v)
