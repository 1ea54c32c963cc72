"""The chapter 3 techniques' own parts, called directly: the book's defaults, the bounds each
one takes and the names its errors give, dropout's masks in the network's dtype, and the
expanded data's gathers and rotations on images with ink up to their edges.

``TrainConfig`` checks the same bounds before any of these is made, so through ``nndl.train``
these checks never fire; called directly (a sweep's runner, a notebook) they are what stands
between a bad value and a silent wrong run.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from nndl.config import ConfigError
from nndl.engine.dropout import Dropout
from nndl.engine.schedules import ConstantSchedule, EarlyStopping, HalvingSchedule, make_schedule


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
        reason = schedule.epoch_ends(epoch, 0.9 if epoch == 1 else 0.5)  # never better than epoch 1
    assert schedule.halvings == [11, 21, 31, 41, 51, 61, 71] and epoch == 71
    assert schedule.eta == 0.5 / 128
    assert reason == "eta fell to 0.00390625 = eta0/128 after 7 halvings (epochs 11, 21, 31, 41, 51, 61, 71)"


def test_an_unknown_schedule_is_refused_naming_the_field_and_the_choices():
    with pytest.raises(ConfigError, match=r"^unknown schedule 'bogus'.*constant.*halve"):
        make_schedule("bogus", 0.5)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ConstantSchedule(0.0), "eta must be a finite number > 0, got 0.0"),
        (lambda: HalvingSchedule(-1.0), "eta must be a finite number > 0, got -1.0"),
        (lambda: HalvingSchedule(0.5, patience=0), "schedule_patience must be an integer >= 1, got 0"),
        (lambda: HalvingSchedule(0.5, divisor=0.5), "schedule_divisor must be a finite number >= 1, got 0.5"),
        (lambda: EarlyStopping(0), "early_stopping must be an integer >= 1, got 0"),
    ],
)
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


# --- expanded data and rotations, called directly ---------------------------------------------

from reference_techniques import expand_like_expand_mnist, rotate_rows_bilinear  # noqa: E402

from nndl.augment import Augmenter, NoExpansion, ShiftExpansion, get_expansion, image_side, rotate_rows  # noqa: E402


def test_an_unknown_expansion_is_refused_naming_the_field_and_the_choices():
    with pytest.raises(ConfigError, match=r"^unknown expand 'flips'; valid expands are: 'none', 'shifts'$"):
        get_expansion("flips")


def test_the_smallest_square_image_is_2_by_2():
    assert image_side(4, "rotate") == 2 and image_side(784, "rotate") == 28
    for n_in in (1, 8, 785):
        with pytest.raises(
            ConfigError,
            match=rf"^rotate needs square images \(such as 784 = 28 x 28 inputs\); "
            rf"the network has {n_in} inputs$",
        ):
            image_side(n_in, "rotate")


@pytest.mark.parametrize(
    "call, what",
    [
        (lambda: rotate_rows(np.ones((2, 8)), np.zeros(2)), "rotate"),
        (lambda: Augmenter("none", 5.0, 3, 8, np.random.default_rng(0)), "rotate"),
        (lambda: Augmenter("shifts", 0.0, 3, 8, None), "expand='shifts'"),
        (lambda: ShiftExpansion.gather(np.ones((3, 8)), np.arange(5), np.empty((5, 8))), "expand='shifts'"),
    ],
)
def test_rotations_and_shifts_name_themselves_when_the_images_are_not_square(call, what):
    with pytest.raises(ConfigError, match=f"^{re.escape(what)} needs square images"):
        call()


def _inked(rows: int, side: int, seed: int = 0) -> np.ndarray:
    """Images with ink in every pixel, edges included (MNIST's own have blank borders, where a
    wrong border rule reads 0 either way)."""
    return np.random.default_rng(seed).uniform(0.1, 1.0, (rows, side * side))  # (rows, side*side)


def test_rotations_by_large_angles_read_0_outside_and_the_edges_exactly():
    """Up to 180 degrees the source point of a corner lies well outside the image: each must read 0,
    and each point within a pixel of the edge must mix the edge with 0 as the reference does."""
    angles = np.array([90.0, -135.0, 180.0, 33.3, -7.5, 0.0, 61.0])
    for side in (2, 5, 28):
        images = _inked(len(angles), side, seed=side)
        want = rotate_rows_bilinear(images, angles)
        got = images.copy()
        rotate_rows(got, angles)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, err_msg=f"side {side}")
        np.testing.assert_array_equal(got[angles == 0.0], images[angles == 0.0])


def test_rotations_take_angles_in_any_dtype_and_turn_in_float64():
    """Angles given as float32 are widened before the trigonometry: the result is the float64
    rotation by the same (float32-representable) angles, not a float32-rounded one."""
    angles32 = np.array([33.3, -71.1, 12.7], np.float32)
    images = _inked(3, 28)
    want = rotate_rows_bilinear(images, angles32)
    rotate_rows(images, angles32)
    np.testing.assert_allclose(images, want, rtol=0, atol=1e-12)


def test_a_window_without_some_shift_still_gets_every_other_shift():
    """Rows of kinds 0, 2 and 4 only (none shifted down or right): each is still its own shift."""
    images = _inked(4, 28)
    idx = np.array([0, 2, 4, 7, 10, 12, 19, 17])  # kinds 0, 2, 4, 2, 0, 2, 4, 2
    out = np.full((len(idx), 784), np.nan)
    ShiftExpansion.gather(images, idx, out)
    np.testing.assert_array_equal(out, expand_like_expand_mnist(images)[idx])


@pytest.mark.parametrize("expansion", [NoExpansion, ShiftExpansion])
def test_float32_images_are_gathered_through_the_stage_into_float64_rows(expansion):
    """The loop's float32-images-for-a-float64-network path: gathered in float32 into ``stage``
    (longer than the window), widened exactly into ``out``."""
    images = _inked(6, 28).astype(np.float32)
    idx = np.array([5, 0, 3, 3]) * expansion.factor  # kind 0 rows: the images themselves
    stage = np.full((10, 784), np.nan, np.float32)
    out = np.full((4, 784), np.nan)
    expansion.gather(images, idx, out, stage)
    np.testing.assert_array_equal(out, images[idx // expansion.factor].astype(np.float64))


# --- elastic distortions ----------------------------------------------------------------------

from reference_techniques import elastic_rows, smooth_gaussian_direct  # noqa: E402

from nndl.augment import ELASTIC_SIGMA, elastic_fields, gaussian_smoother  # noqa: E402


@pytest.mark.parametrize("side, sigma", [(28, 4.0), (5, 4.0), (9, 1.3), (2, 0.2)])
def test_the_smoother_is_a_gaussian_of_sigma_pixels_with_zeros_beyond_the_edges(side, sigma):
    """G @ F @ G.T against the 2-D sum by its definition, on noise and on a single pixel."""
    G = gaussian_smoother(side, sigma)
    F = np.random.default_rng(side).uniform(-1.0, 1.0, (side, side))
    np.testing.assert_allclose(G @ F @ G.T, smooth_gaussian_direct(F, sigma), rtol=0, atol=1e-15)
    spike = np.zeros((side, side))
    spike[side // 2, side // 2] = 1.0
    np.testing.assert_allclose(G @ spike @ G.T, smooth_gaussian_direct(spike, sigma), rtol=0, atol=1e-15)


def test_the_smoother_keeps_a_constant_field_inside_and_fades_it_at_the_edges():
    G = gaussian_smoother(60)  # sigma 4: the kernel reaches 16 pixels each way
    smooth = G @ np.ones((60, 60)) @ G.T
    np.testing.assert_allclose(smooth[16:44, 16:44], 1.0, rtol=0, atol=1e-12)  # the whole kernel inside
    centre = 1 / sum(np.exp(-0.5 * (d / 4.0) ** 2) for d in range(-16, 17))  # the middle tap
    edge = 0.5 + centre / 2  # at an edge: the middle tap and the half of the kernel inside
    assert smooth[0, 30] == pytest.approx(edge, abs=1e-12) and smooth[0, 0] == pytest.approx(edge**2, abs=1e-12)


def test_elastic_fields_are_smoothed_noise_scaled_by_alpha_drawn_from_the_stream():
    dy, dx = elastic_fields(3, 28, 34.0, np.random.default_rng(4))
    noise = np.random.default_rng(4).uniform(-1.0, 1.0, (2, 3, 28, 28))
    for n in range(3):
        np.testing.assert_allclose(dy[n], 34.0 * smooth_gaussian_direct(noise[0, n], 4.0).ravel(), atol=1e-13)
        np.testing.assert_allclose(dx[n], 34.0 * smooth_gaussian_direct(noise[1, n], 4.0).ravel(), atol=1e-13)
    assert ELASTIC_SIGMA == 4.0
    twice, _ = elastic_fields(3, 28, 68.0, np.random.default_rng(4))
    np.testing.assert_allclose(twice, 2 * dy, rtol=1e-15)


def test_elastic_fields_at_alpha_34_move_pixels_by_about_a_pixel_and_smoothly():
    """Simard et al.'s setting: displacements of a pixel or two, neighbours moving together."""
    dy, dx = elastic_fields(400, 28, 34.0, np.random.default_rng(0))
    inner = np.abs(dy.reshape(400, 28, 28)[:, 8:20, 8:20])
    assert 0.8 < inner.mean() < 1.6 and inner.max() < 8.0
    steps = np.abs(np.diff(dy.reshape(400, 28, 28), axis=2))  # (400, 28, 27): neighbour to neighbour
    assert steps.mean() < 0.2 * inner.mean()


@pytest.mark.parametrize("rotate", [0.0, 12.0])
def test_the_augmenter_distorts_after_turning_as_the_pixel_by_pixel_reference(rotate):
    """Angles first, then the fields, one bilinear read per pixel: equal to the reference that
    warps image by image, to 1e-12; the stream is the run's ``augment`` stream."""
    images = _inked(5, 28, seed=2)
    idx = np.array([3, 0, 4])
    aug = Augmenter("none", rotate, 5, 784, np.random.default_rng(8), elastic=20.0)
    out = np.empty((3, 784))
    aug.gather(images, idx, out)
    rng = np.random.default_rng(8)
    angles = rng.uniform(-rotate, rotate, 3) if rotate else np.zeros(3)
    want = elastic_rows(images[idx], angles, 20.0, rng)
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-12)
    assert not aug.identity and aug.elastic == 20.0
    moved = np.abs(out - images[idx]).mean()
    assert moved > 0.05  # the images did change


def test_an_augmenter_without_elastic_draws_exactly_the_angles_it_always_drew():
    """Turning on no distortion leaves a rotation run's stream, and so its results, as they were."""
    images = _inked(4, 28, seed=5)
    a, b = np.empty((4, 784)), np.empty((4, 784))
    Augmenter("none", 9.0, 4, 784, np.random.default_rng(1)).gather(images, np.arange(4), a)
    Augmenter("none", 9.0, 4, 784, np.random.default_rng(1), elastic=0.0).gather(images, np.arange(4), b)
    want = rotate_rows_bilinear(images, np.random.default_rng(1).uniform(-9.0, 9.0, 4))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, want, rtol=0, atol=1e-12)


def test_elastic_distortion_needs_square_images():
    with pytest.raises(ConfigError, match=r"^elastic needs square images"):
        Augmenter("none", 0.0, 3, 8, np.random.default_rng(0), elastic=5.0)


def test_the_augmenter_passes_the_stage_on_and_rotates_what_it_gathered():
    images = _inked(6, 28).astype(np.float32)
    idx = np.array([4, 1, 5])
    aug = Augmenter("none", 20.0, 6, 784, np.random.default_rng(3))
    out = np.empty((3, 784))
    aug.gather(images, idx, out, np.empty((8, 784), np.float32))
    angles = np.random.default_rng(3).uniform(-20.0, 20.0, 3)
    want = rotate_rows_bilinear(images[idx], angles)
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-12)
    assert aug.n == 6 and not aug.identity
    np.testing.assert_array_equal(aug.images(idx), idx)
    np.testing.assert_array_equal(Augmenter("shifts", 0.0, 6, 784, None).images(np.array([0, 4, 5, 29])), [0, 0, 1, 5])
