"""Sweep specifications: values parsed by each TrainConfig field's type, grids, random draws,
seeds that pair trials, and bad specifications refused with a clear error before any trial runs."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from nndl import TrainConfig
from nndl.cli import main
from nndl.cli.sweep import add_parser
from nndl.errors import ConfigError
from nndl.sweep import Range, SweepSpec, parse_field, parse_value, sweepable
from nndl.sweep import sweep as sweep_module

SAMPLE = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")


def test_every_trainconfig_field_but_the_seed_is_sweepable_and_has_a_flag():
    import argparse

    names = [f.name for f in dataclasses.fields(TrainConfig)]
    assert sweepable() == [n for n in names if n != "seed"]
    p = add_parser(argparse.ArgumentParser().add_subparsers())
    flags = {o for a in p._actions for o in a.option_strings}
    assert {"--" + n.replace("_", "-") for n in sweepable()} <= flags and "--seeds" in flags


def test_values_are_parsed_by_the_fields_type():
    assert parse_value("eta", "0.25") == 0.25 and isinstance(parse_value("eta", "1"), float)
    assert parse_value("epochs", "5") == 5 and isinstance(parse_value("epochs", "5"), int)
    assert parse_value("sizes", "784,30,10") == (784, 30, 10)
    assert parse_value("order_seed", "none") is None and parse_value("order_seed", "3") == 3
    assert parse_value("cost", "quadratic") == "quadratic"
    with pytest.raises(ConfigError, match=r"--epochs: '2\.5' is not an integer"):
        parse_value("epochs", "2.5")
    with pytest.raises(ConfigError, match="--eta: 'nan' is not a finite number"):
        parse_value("eta", "nan")


def test_comma_lists_make_a_grid_and_every_seed_pairs_the_combinations():
    spec = SweepSpec(
        values={
            "eta": parse_field("eta", ["0.025,0.25,2.5"]),
            "lmbda": parse_field("lmbda", ["0,5"]),
            "sizes": parse_field("sizes", ["784,30,10"]),
        },
        seeds=(0, 1),
    )
    assert spec.swept() == ["eta", "lmbda"] and spec.fixed() == {"sizes": (784, 30, 10)}
    trials = spec.trials()
    assert len(trials) == 3 * 2 * 2 and len({t.key for t in trials}) == 12
    for seed in (0, 1):
        same = [t for t in trials if t.config.seed == seed]
        assert {(t.config.eta, t.config.lmbda) for t in same} == {(e, l) for e in (0.025, 0.25, 2.5) for l in (0, 5)}
        # paired: everything but the swept values is the same, the mini-batch order included
        assert {(t.config.sizes, t.config.order_seed, t.config.epochs) for t in same} == {((784, 30, 10), None, 30)}
    assert trials[0].label == {"eta": 0.025, "lmbda": 0.0, "seed": 0}


def test_tuple_fields_take_one_value_per_argument():
    assert parse_field("sizes", ["784,30,10", "784,100,10"]) == ((784, 30, 10), (784, 100, 10))


def test_random_draws_are_log_uniform_for_eta_and_repeatable():
    spec = SweepSpec(
        ranges={"eta": parse_field("eta", ["0.01:100"]), "epochs": parse_field("epochs", ["1:3"])},
        random=400,
        random_seed=7,
    )
    combos = spec.combinations()
    etas = np.array([c["eta"] for c in combos])
    assert etas.min() >= 0.01 and etas.max() <= 100
    # log-uniform over four decades: a quarter in each, so half below 1 and a quarter below 0.1
    assert 0.4 < np.mean(etas < 1.0) < 0.6 and 0.15 < np.mean(etas < 0.1) < 0.35
    assert {c["epochs"] for c in combos} == {1, 2, 3}
    assert combos == SweepSpec(ranges=spec.ranges, random=400, random_seed=7).combinations()
    assert combos != SweepSpec(ranges=spec.ranges, random=400, random_seed=8).combinations()


def test_other_float_ranges_are_uniform():
    r = parse_field("eta", ["0.01:100"])
    assert r.log and not Range(0.0, 1.0).log
    assert parse_field("lmbda", ["0.001:10"]).log


@pytest.mark.parametrize(
    "values, ranges, kw, match",
    [
        ({"foo": (1,)}, {}, {}, r"unknown field 'foo'.*eta, lmbda"),
        ({"seed": (1, 2)}, {}, {}, r"unknown field 'seed'.*through seeds"),
        ({"eta": ()}, {}, {}, r"--eta: empty list"),
        ({}, {}, {"seeds": ()}, r"--seeds: empty list"),
        ({"eta": (0.1, -1.0)}, {}, {}, r"--eta -1.0: eta must be a finite number > 0"),
        ({"cost": ("cross-entropy", "hinge")}, {}, {}, r"--cost hinge: unknown cost 'hinge'"),
        ({}, {"eta": Range(1.0, 0.1)}, {"random": 3}, r"--eta: bad range"),
        (
            {},
            {"lmbda": Range(0.0, 1.0, log=True)},
            {"random": 3},
            r"--lmbda: bad range: a log-uniform range needs lo > 0",
        ),
        ({}, {"eta": Range(0.1, 1.0, log=True)}, {}, r"--eta: a range is drawn from at random: add --random N"),
        ({"eta": (0.5,)}, {}, {"random": 3}, r"--random N draws from ranges"),
        ({}, {}, {"monitor": ("evaluation_accuracy", "weights")}, r"unknown monitor \['weights'\]"),
    ],
)
def test_bad_specifications_are_refused_with_a_message_naming_them(values, ranges, kw, match):
    with pytest.raises(ConfigError, match=match):
        SweepSpec(values=values, ranges=ranges, **kw)


@pytest.mark.parametrize(
    "argv, match",
    [
        ([], r"nothing to sweep: give values for at least one field"),
        (["--foo", "3"], r"unknown field 'foo' \(--foo\): a sweep varies TrainConfig fields, which are sizes, cost"),
        (["--eta", ","], r"--eta: empty value in ','"),
        (["--seeds", "0,,1"], r"--seeds: empty value"),
        (["--eta", "0.1:1"], r"--eta: a range is drawn from at random: add --random N"),
        (["--eta", "1:0.1", "--random", "4"], r"--eta: bad range '1:0.1': write LO:HI with LO < HI"),
        (["--lmbda", "0:5", "--random", "4"], r"--lmbda: bad range '0:5': lmbda is drawn log-uniformly"),
        (["--cost", "quadratic:cross-entropy", "--random", "2"], r"--cost: .* is a range, but cost is not a number"),
        (["--eta=-1,2"], r"--eta -1.0: eta must be a finite number > 0, got -1.0"),
        (["--epochs", "2", "--train-size", "100000"], r"--train-size 100000: the data set has only 1,667 images"),
        (["--sizes", "700,30,10", "--epochs", "1"], r"--sizes 700,30,10: the first layer must have 784 neurons"),
    ],
)
def test_the_command_line_refuses_bad_specifications_before_any_trial_runs(argv, match, tmp_path, capsys, monkeypatch):
    ran = []
    monkeypatch.setattr(sweep_module, "run_trial", lambda *a: ran.append(a))
    out = tmp_path / "sweep"
    code = main(["sweep", *argv, "--dataset", SAMPLE, "--out", str(out), "--workers", "1", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert ran == [] and not out.exists()
    import re

    assert re.search(match, err), err
    assert "Traceback" not in err


def test_a_range_value_log_uniform_draws_keep_three_significant_digits():
    spec = SweepSpec(ranges={"eta": Range(0.01, 10.0, log=True)}, random=20)
    for c in spec.combinations():
        assert c["eta"] == float(f"{c['eta']:.3g}") and 0.01 <= c["eta"] <= 10
        assert math.isfinite(c["eta"])
