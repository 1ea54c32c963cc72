"""``RunState``: everything a training run keeps that must survive a stop, with
``state_dict()`` / ``load_state_dict()``, so that a stopped run continues exactly.
"""

from __future__ import annotations

import numpy as np

from ..config import Streams, as_rng
from ..errors import ConfigError
from .network import Network
from .rules import GradientDescent


def _state_of(rng) -> dict | None:
    return None if rng is None else rng.bit_generator.state


def _restore(rng, state) -> None:
    if rng is not None and state is not None:
        rng.bit_generator.state = state


def _arrays(value, shapes, dtype, what):
    """Nested lists -> arrays of the given shapes (None stays None), else ``ConfigError``."""
    if value is None:
        return None
    try:
        out = [np.array(v, dtype) for v in value]
    except (TypeError, ValueError):
        out = None
    if out is not None and len(out) == len(shapes):  # a bias column (n, 1) as earlier versions saved it
        out = [a.reshape(shape) if a.shape == (*shape, 1) else a for a, shape in zip(out, shapes)]
    if out is None or [a.shape for a in out] != list(shapes) or not all(np.isfinite(a).all() for a in out):
        raise ConfigError(f"the saved training state is not valid: {what} does not match the network")
    return out


class RunState:
    """Everything a run keeps that must survive a stop, so that it continues exactly:
    ``epoch`` (epochs done), ``position`` (rows done of the epoch in progress), the random
    streams (the order, dropout, rotations), the schedule, early stopping, momentum's velocity
    and the best epoch's weights.

    ``state_dict()`` gives it as plain JSON values (``History.state``: a model file keeps it);
    ``load_state_dict(d)`` puts such a dict back, or raises ``ConfigError`` when it does not
    fit this run. Stopped mid-epoch, a run keeps the order stream's state from *before* that
    epoch's permutation, so the resumed run draws the same permutation and skips ``position``
    rows of it.
    """

    def __init__(
        self,
        net: Network,
        rule: GradientDescent,
        schedule,
        stopper,
        streams: Streams,
        n: int,
        window: int,
        epoch: int = 0,
    ):
        self.net, self.rule, self.schedule, self.stopper, self.streams = net, rule, schedule, stopper, streams
        self.order = as_rng(streams.order)
        self.n, self.window = n, window  # rows an epoch visits; rows a window takes
        self.epoch, self.position = epoch, 0
        self.best: list | None = None  # the best epoch's parameter values
        self._order_at_start = _state_of(self.order)

    def permutation(self) -> np.ndarray:
        """The order of the epoch in progress (n,), drawn from the order stream."""
        self._order_at_start = _state_of(self.order)
        return self.order.permutation(self.n)

    def keep_best(self) -> None:
        self.best = [p.value.copy() for p in self.net.params]

    def state_dict(self) -> dict:
        vel = self.rule.velocity
        pairs = list(zip(self.net.params, vel)) if vel is not None else None
        return {
            "epoch": self.epoch,
            "position": self.position,
            "order": self._order_at_start if self.position else _state_of(self.order),
            "dropout": _state_of(self.streams.dropout),
            "augment": _state_of(self.streams.augment),
            "schedule": self.schedule.to_dict(),
            "stopper": self.stopper.to_dict() if self.stopper is not None else None,
            "velocity": None
            if pairs is None
            else [[v.tolist() for p, v in pairs if p.decays], [v.tolist() for p, v in pairs if not p.decays]],
            "best": None if self.best is None else [b.tolist() for b in self.best],
        }

    def load_state_dict(self, state: dict) -> None:
        try:
            position, epoch = int(state["position"]), int(state["epoch"])
            if epoch != self.epoch:
                raise ValueError(f"it is after epoch {epoch}, the history after epoch {self.epoch}")
            if not 0 <= position < self.n or position % self.window:
                raise ValueError(f"position {position} is not the start of a window in {self.n:,} rows")
            _restore(self.order, state["order"])
            _restore(self.streams.dropout, state["dropout"])
            _restore(self.streams.augment, state["augment"])
            self.schedule.load(state["schedule"])
            self.rule.set_eta(self.schedule.eta)
            if self.stopper is not None and state.get("stopper"):
                self.stopper.load(state["stopper"])
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise ConfigError(
                f"the saved training state is not valid ({type(e).__name__}: {str(e)[:80]}); it "
                f"belongs to another run or the file was changed"
            ) from None
        self.position = position
        self._order_at_start = _state_of(self.order)
        self.best = self._best(state.get("best"))
        if state.get("velocity") is not None:
            self.rule.velocity = self._velocity(state["velocity"])

    def _best(self, best) -> list | None:
        """The saved best weights, one array per parameter. A dense network's file from before
        the layers (one (n_in + 1, n_out) array per layer: weights transposed, biases last) is
        read too, so such a run still continues."""
        net = self.net
        if net.dense and isinstance(best, list) and len(best) == len(net.layers) < len(net.params):
            stored = _arrays(best, [layer.P.shape for layer in net.layers], net.dtype, "best")
            best = [part for P in stored for part in (P[:-1].T, P[-1])]  # (n_out, n_in), (n_out,)
        return _arrays(best, [p.value.shape for p in net.params], net.dtype, "best")

    def _velocity(self, vel) -> list:
        """A saved velocity ([weights' list, biases' list]) as one array per parameter."""
        if not isinstance(vel, list) or len(vel) != 2:
            raise ConfigError("the saved training state is not valid: velocity does not match the network")
        parts = [[p for p in self.net.params if p.decays], [p for p in self.net.params if not p.decays]]
        dtype = self.net.dtype
        arrays = [iter(_arrays(v, [p.value.shape for p in ps], dtype, "velocity")) for v, ps in zip(vel, parts)]
        return [next(arrays[0] if p.decays else arrays[1]) for p in self.net.params]
