"""The learning-rate schedule and early stopping: decisions made on validation accuracy.

Kept apart from the loop, as scikit-learn keeps its "adaptive" learning rate apart from its
training loop: after each epoch the loop hands each of them the epoch's validation accuracy
(``epoch_ends``) and does what they answer - a new eta, or stop. Only the validation split is
ever used to decide; the test set is looked at once, at the very end.

* ``constant``: eta never changes (network2).
* ``halve``: the book's chapter 3 schedule - halve eta whenever validation accuracy has not
  improved for ``patience`` epochs (10), and stop once eta has fallen to eta0 / ``divisor``
  (128, i.e. after seven halvings).
* ``EarlyStopping``: stop when validation accuracy has not improved for n epochs; the loop
  then restores the weights of the best epoch (``Watch.best_epoch``).

State (``to_dict`` / ``from_dict``) is plain numbers, so a saved model resumes exactly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..checks import check_float, check_int
from ..registry import lookup


@dataclass
class Watch:
    """The best score so far, the epoch it came from (1-based), and epochs since an improvement."""

    best: float | None = None
    best_epoch: int = 0
    since: int = 0

    def update(self, epoch: int, score: float) -> bool:
        """Record ``score`` for ``epoch``; True when it beats every earlier one (strictly)."""
        if self.best is None or score > self.best:
            self.best, self.best_epoch, self.since = score, epoch, 0
            return True
        self.since += 1
        return False


class ConstantSchedule:
    """eta stays what it was: network2's behaviour."""

    name = "constant"

    def __init__(self, eta: float, patience: int = 10, divisor: float = 128.0):
        self.eta0 = self.eta = check_float("eta", eta, 0.0, strict=True)
        self.watch = Watch()
        self.halvings: list[int] = []

    def epoch_ends(self, epoch: int, accuracy: float | None) -> str | None:
        """Take the epoch's validation accuracy; return a reason to stop, or None."""
        if accuracy is not None:
            self.watch.update(epoch, accuracy)
        return None

    def to_dict(self) -> dict:
        return {"eta": self.eta, "watch": dataclasses.asdict(self.watch), "halvings": list(self.halvings)}

    def load(self, d: dict) -> None:
        self.eta = float(d["eta"])
        self.watch = Watch(**d["watch"])
        self.halvings = [int(e) for e in d["halvings"]]


class HalvingSchedule(ConstantSchedule):
    """The book's schedule: eta / 2 after ``patience`` epochs without a new best validation
    accuracy (the count starts again after each halving), until eta <= eta0 / ``divisor``."""

    name = "halve"

    def __init__(self, eta: float, patience: int = 10, divisor: float = 128.0):
        super().__init__(eta)
        self.patience = check_int("schedule_patience", patience, 1)
        self.divisor = check_float("schedule_divisor", divisor, 1.0, strict=False)

    def epoch_ends(self, epoch: int, accuracy: float | None) -> str | None:
        if accuracy is None:
            raise ValueError("the halving schedule needs the validation accuracy of every epoch")
        if self.watch.update(epoch, accuracy) or self.watch.since < self.patience:
            return None
        self.eta /= 2.0
        self.halvings.append(epoch)
        self.watch.since = 0
        if self.eta <= self.eta0 / self.divisor * (1 + 1e-12):
            return (
                f"eta fell to {self.eta:g} = eta0/{self.eta0 / self.eta:g} after {len(self.halvings)} "
                f"halvings (epochs {', '.join(map(str, self.halvings))})"
            )
        return None


SCHEDULES = {ConstantSchedule.name: ConstantSchedule, HalvingSchedule.name: HalvingSchedule}


def make_schedule(name: str, eta: float, patience: int = 10, divisor: float = 128.0):
    """The schedule registered as ``name`` ('constant' or 'halve'), starting at ``eta``."""
    return lookup(SCHEDULES, name, "schedule")(eta, patience, divisor)


class EarlyStopping:
    """Stop after ``patience`` epochs in a row without a new best validation accuracy."""

    def __init__(self, patience: int):
        self.patience = check_int("early_stopping", patience, 1)
        self.watch = Watch()

    def epoch_ends(self, epoch: int, accuracy: float) -> tuple[bool, str | None]:
        """(improved, reason to stop or None) after ``epoch``."""
        improved = self.watch.update(epoch, accuracy)
        if self.watch.since >= self.patience:
            return improved, (
                f"no improvement in {self.patience} epochs; the best validation accuracy "
                f"came from epoch {self.watch.best_epoch}"
            )
        return improved, None

    def to_dict(self) -> dict:
        return {"watch": dataclasses.asdict(self.watch)}

    def load(self, d: dict) -> None:
        self.watch = Watch(**d["watch"])
