"""The checks every input goes through (``nndl.checks``): the bounds exactly as stated, the
message that names the input and what is allowed, and a value echoed on one bounded line,
however long the input."""

from __future__ import annotations

import numpy as np
import pytest

from nndl.checks import check_dtype, check_float, check_int, check_sizes
from nndl.errors import ConfigError


def test_a_value_is_echoed_whole_when_short_and_on_one_bounded_line_when_long():
    """The value a check refuses is shown by ``nndl.errors.quote``: its repr whole up to 80
    characters; a longer string as its first 80 and its length; a long list as its first six
    items; a NumPy array on one line; a string of escapes cut, never four times as long."""

    def echo(value):
        with pytest.raises(ConfigError) as e:
            check_int("epochs", value, 1)
        message = str(e.value)
        assert message.startswith("epochs must be an integer >= 1, got ") and "\n" not in message
        return message.removeprefix("epochs must be an integer >= 1, got ")

    assert echo("x" * 80) == repr("x" * 80) and echo("\x00" * 80) == repr("\x00" * 80)[:160] + "..."
    assert echo("y" * 1_000_000) == f"{'y' * 80!r}... (1,000,000 characters in all)"
    assert echo(list(range(1_000_000))) == "[0, 1, 2, 3, 4, 5, ...]"
    assert echo(np.zeros((100, 100))).startswith("array([[0., 0., 0., ..., 0., 0., 0.], ...")
    assert len(echo("\x00" * 10_000)) <= 160 + len("... (10,000 characters in all)")
    assert len(echo(np.arange(1e6).reshape(1000, 1000))) <= 163


def test_an_integer_bound_is_inclusive_and_named_in_the_message():
    assert check_int("epochs", 5, 1, 5) == 5 and check_int("epochs", 1, 1, 5) == 1
    with pytest.raises(ConfigError, match=r"^epochs must be an integer from 1 to 5, got 6$"):
        check_int("epochs", 6, 1, 5)
    with pytest.raises(ConfigError, match=r"^epochs must be an integer >= 1, got 0$"):
        check_int("epochs", 0, 1)


def test_a_float_maximum_is_inclusive_unless_strict_and_the_message_says_which():
    assert check_float("p", 1.0, 0.0, strict=False, maximum=1.0) == 1.0  # <= by default
    with pytest.raises(ConfigError, match=r"^p must be a finite number >= 0 and <= 1, got 1\.5$"):
        check_float("p", 1.5, 0.0, strict=False, maximum=1.0)
    with pytest.raises(ConfigError, match=r"^p must be a finite number >= 0 and < 1, got 1\.0$"):
        check_float("p", 1.0, 0.0, strict=False, maximum=1.0, strict_max=True)
    assert check_float("p", 0.999, 0.0, strict=False, maximum=1.0, strict_max=True) == 0.999


@pytest.mark.parametrize(
    "bad, echoed",
    [
        ("784,100,10", "'784,100,10'"),
        (5, "5"),
        ([784], "[784]"),
        ([784, 0, 10], "[784, 0, 10]"),
        ([784, True], "[784, True]"),
    ],
)
def test_sizes_must_be_a_list_of_positive_integers_and_the_message_echoes_them(bad, echoed):
    with pytest.raises(ConfigError) as err:
        check_sizes(bad)
    assert str(err.value) == f"sizes must be a list of at least 2 positive integers (e.g. [784, 100, 10]), got {echoed}"


def test_a_dtype_resolves_to_its_scalar_type_and_only_float64_and_float32_are_taken():
    for given, want in [
        ("float64", np.float64),
        ("float32", np.float32),
        (np.float32, np.float32),
        (np.dtype("float32"), np.float32),
        (np.dtype("float64"), np.float64),
    ]:
        assert check_dtype(given) is want
    for bad in (np.dtype("int64"), np.dtype("float16"), "float16", np.int32, None):
        with pytest.raises(ConfigError, match=r"^unknown dtype .*; valid dtypes are: 'float64', 'float32'$"):
            check_dtype(bad)


@pytest.mark.parametrize(
    "call, field, detail",
    [
        (lambda: check_int("epochs", 0, 1), "epochs", "must be an integer >= 1, got 0"),
        (lambda: check_float("eta", -1.0, 0.0, strict=True), "eta", "must be a finite number > 0, got -1.0"),
        (
            lambda: check_float("momentum", 1.0, 0.0, strict=False, maximum=1.0, strict_max=True),
            "momentum",
            "must be a finite number >= 0 and < 1, got 1.0",
        ),
        (
            lambda: check_sizes([784, 0]),
            "sizes",
            "must be a list of at least 2 positive integers (e.g. [784, 100, 10]), got [784, 0]",
        ),
        (
            lambda: check_dtype("float16"),
            "dtype",
            "unknown dtype 'float16'; valid dtypes are: 'float64', 'float32'",
        ),
    ],
)
def test_a_refusal_names_its_field_and_the_detail_a_flag_can_show(call, field, detail):
    """The command line reads ``field`` to name the flag and ``detail`` to say what was wrong, so
    both are part of the refusal, not only its message."""
    with pytest.raises(ConfigError) as caught:
        call()
    assert caught.value.field == field
    assert caught.value.detail == detail
    assert str(caught.value).endswith(detail)
