"""The nndl command as a whole: parser, version, help, exit codes, error lines, explore, -m."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

import nndl
from nndl.cli import describe, main, make_parser


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"nndl {nndl.__version__}"


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("train", "evaluate", "predict", "data", "explore"):
        assert command in out


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "data", "data fetch", "data info"])
def test_each_command_has_help(capsys, command):
    assert main([*command.split(), "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: nndl {command}")


@pytest.mark.parametrize(
    "command",
    [
        "",
        "train",
        "evaluate",
        "predict",
        "report",
        "data",
        "data fetch",
        "data info",
        "sweep",
        "explore",
        "explore level3",
        "explore beyond",
    ],
)
def test_each_help_reads_as_written_in_80_columns(capsys, command, monkeypatch):
    """Help is for people: no argparse escape ('%%') shows, and nothing runs past 80 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    assert main([*command.split(), "--help"]) == 0
    out = capsys.readouterr().out
    assert "%%" not in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_train_help_says_where_ctrl_c_saves(capsys):
    main(["train", "--help"])
    assert "nndl-interrupted.json" in capsys.readouterr().out


def test_no_command_is_one_line_and_exits_2(capsys):
    assert main([]) == 2
    assert capsys.readouterr().err == (
        "nndl: error: no command given; choose one of train, evaluate, predict, report, "
        "data, sweep, explore (see nndl --help)\n"
    )


@pytest.mark.parametrize(
    "argv", [["fly"], ["train", "--bogus"], ["data"], ["predict", "m.json"], ["explore"], ["explore", "level9"]]
)
def test_usage_errors_exit_2_without_traceback(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_parser_is_built_by_a_function():
    args = make_parser().parse_args(["train", "--epochs", "3"])
    assert args.epochs == 3 and args.command == "train" and callable(args.run)


def test_os_error_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(
        [
            "train",
            "--dataset",
            str(Path(__file__).parents[1] / "data" / "mnist_sample.npz"),
            "--sizes",
            "784,5,10",
            "--epochs",
            "1",
            "--save",
            str(blocker / "model.json"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("nndl: error: ") and str(blocker) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_describe_os_errors():
    assert describe(FileNotFoundError(2, "No such file or directory", "m.json")) == "m.json: No such file or directory"
    assert describe(OSError("plain")) == "plain"


def test_ctrl_c_outside_training_exits_130(monkeypatch, capsys):
    from nndl.cli import models

    def interrupted(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(models, "read_json", interrupted)
    assert main(["evaluate", "model.json"]) == 130
    assert "interrupted" in capsys.readouterr().err


# --- explore: everything after the exploration's name is passed through --------------------------


def fake_level3(monkeypatch, behaviour):
    module = types.ModuleType("nndl.cli.explore.level3")
    module.calls = []

    def level3_main(argv, prog="nndl explore level3"):
        module.calls.append(argv)
        return behaviour(argv)

    module.main = level3_main
    monkeypatch.setitem(sys.modules, "nndl.cli.explore.level3", module)
    return module


def test_explore_passes_options_through(monkeypatch):
    module = fake_level3(monkeypatch, lambda argv: 3)
    assert main(["explore", "level3", "--quick", "--epochs", "2", "section"]) == 3
    assert module.calls == [["--quick", "--epochs", "2", "section"]]


def test_explore_help_is_the_explorations_own(monkeypatch, capsys):
    def with_help(argv):
        import argparse

        argparse.ArgumentParser(prog="nndl explore level3", description="LEVEL3 OWN HELP").parse_args(argv)
        return 0

    module = fake_level3(monkeypatch, with_help)
    assert main(["explore", "level3", "--help"]) == 0
    assert module.calls == [["--help"]]
    assert "LEVEL3 OWN HELP" in capsys.readouterr().out


def test_explore_when_level3_is_missing(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "nndl.cli.explore.level3", None)  # import of it fails
    assert main(["explore", "level3"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nndl: error:") and "not available" in err


def test_real_level3_help_if_installed(capsys):
    pytest.importorskip("nndl.cli.explore.level3")
    assert main(["explore", "level3", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:") and "Run an exploration" not in out


# --- python -m ----------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["nndl.cli", "nndl"])
def test_python_dash_m(module):
    proc = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"nndl {nndl.__version__}"


def test_entry_exits_with_mains_status(monkeypatch):
    from nndl import cli

    monkeypatch.setattr(sys, "argv", ["nndl", "data", "info", "no-such-set"])
    with pytest.raises(SystemExit) as e:
        cli.entry()
    assert e.value.code == 2
