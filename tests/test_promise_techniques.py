"""The chapter 3 techniques' own parts, called directly: the book's defaults, the bounds each
one takes and the names its errors give, and dropout's masks in the network's dtype.

``TrainConfig`` checks the same bounds before any of these is made, so through ``nndl.train``
these checks never fire; called directly (a sweep's runner, a notebook) they are what stands
between a bad value and a silent wrong run.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from nndl.config import ConfigError
from nndl.dropout import Dropout
from nndl.schedules import ConstantSchedule, EarlyStopping, HalvingSchedule, make_schedule


@pytest.mark.parametrize("name, cls", [("constant", ConstantSchedule), ("halve", HalvingSchedule)])
def test_the_schedules_default_to_the_books_patience_10_and_eta_over_128(name, cls):
    for schedule in (make_schedule(name, 0.5), cls(0.5)):
        assert type(schedule) is cls and schedule.eta == schedule.eta0 == 0.5
        if cls is HalvingSchedule:
            assert (schedule.patience, schedule.divisor) == (10, 128.0)


def test_the_book_schedule_stops_after_seven_halvings_by_default():
    schedule = make_schedule("halve", 0.5)
    reason, epoch = None, 0
    while reason is None:
        epoch += 1
        reason = schedule.epoch_ends(epoch, 0.9 if epoch == 1 else 0.5)   # never better than epoch 1
    assert schedule.halvings == [11, 21, 31, 41, 51, 61, 71] and epoch == 71
    assert schedule.eta == 0.5 / 128
    assert reason == "eta fell to 0.00390625 = eta0/128 after 7 halvings (epochs 11, 21, 31, 41, 51, 61, 71)"


def test_an_unknown_schedule_is_refused_naming_the_field_and_the_choices():
    with pytest.raises(ConfigError, match=r"^unknown schedule 'bogus'.*constant.*halve"):
        make_schedule("bogus", 0.5)


@pytest.mark.parametrize("make, message", [
    (lambda: ConstantSchedule(0.0), "eta must be a finite number > 0, got 0.0"),
    (lambda: HalvingSchedule(-1.0), "eta must be a finite number > 0, got -1.0"),
    (lambda: HalvingSchedule(0.5, patience=0), "schedule_patience must be an integer >= 1, got 0"),
    (lambda: HalvingSchedule(0.5, divisor=0.5), "schedule_divisor must be a finite number >= 1, got 0.5"),
    (lambda: EarlyStopping(0), "early_stopping must be an integer >= 1, got 0"),
])
def test_each_part_refuses_a_value_out_of_bounds_naming_it(make, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        make()


def test_the_smallest_allowed_values_are_taken():
    assert HalvingSchedule(0.5, patience=1, divisor=1.0).divisor == 1.0
    assert EarlyStopping(1).patience == 1
    # divisor 1: eta0 / 1 is reached by no halving, so the first halving stops the run
    s = HalvingSchedule(0.5, patience=1, divisor=1.0)
    assert s.epoch_ends(1, 0.9) is None and s.epoch_ends(2, 0.8) is not None and s.eta == 0.25


def test_the_halving_schedule_refuses_an_epoch_without_validation_accuracy():
    with pytest.raises(ValueError, match="^the halving schedule needs the validation accuracy of every epoch$"):
        HalvingSchedule(0.5).epoch_ends(1, None)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, float("nan")])
def test_dropout_takes_a_probability_in_0_to_1_and_names_itself(p):
    with pytest.raises(ConfigError, match=rf"^dropout must be a finite number >= 0 and < 1, got {re.escape(repr(p))}$"):
        Dropout(p, np.random.default_rng(0), [4, 3, 2], 5, np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dropout_0_is_allowed_and_masks_come_in_the_networks_dtype(dtype):
    """Float32 training computes in float32: a float64 mask would widen every product (and its
    rounding) for nothing."""
    for p in (0.0, 0.5):
        masks = Dropout(p, np.random.default_rng(0), [4, 3, 3, 2], 6, dtype).draw(6)
        assert masks[0] is None and masks[-1] is None
        for mask in masks[1:-1]:
            assert mask.dtype == dtype and mask.shape[0] == 6
            assert set(np.unique(mask)) <= {0.0, dtype(1 / (1 - p))}
