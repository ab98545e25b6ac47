"""The parameter types that trigger recipes are written in: each carries its unit.

A trigger is a recipe: a frozen, keyword-only dataclass of named numbers fed to one of a
few families (strokes in ``gestures``, impacts in ``impacts``, beds). The types here are
the words those recipes are written with. Units live in the field names: ``*_hz`` for
frequencies, ``*_s`` and ``*_ms`` for durations, ``*_db`` for levels in decibels,
``*_per_s`` for rates, ``*_deg`` for angles; a plain ``gain`` or ``level`` is a linear
amplitude ratio. Values are checked when a recipe is built (at import), never in the
render path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Band", "Count", "NoiseBand", "Range", "SoftLimit"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Band:
    """A frequency band: the corners of a band-pass, or the span something is drawn from."""

    low_hz: float
    """Lower corner, in Hz."""

    high_hz: float
    """Upper corner, in Hz."""

    def __post_init__(self) -> None:
        """Check that the band is a band."""
        if not 0.0 < self.low_hz < self.high_hz:
            raise ValueError(f"a band needs 0 < low_hz < high_hz, got {self}")

    def at(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return the frequencies the span gives unit draws ``u`` (0 gives ``low_hz``)."""
        return np.asarray(self.low_hz + (self.high_hz - self.low_hz) * u)


@dataclass(frozen=True, kw_only=True, slots=True)
class NoiseBand:
    """A band of noise: its corners, the slope of its skirts and its tilt inside."""

    band: Band
    """Corners of the band."""

    tilt_db_per_octave: float = 0.0
    """Spectral tilt inside the band, through 1 kHz, in dB per octave."""

    order: int = 2
    """Steepness of each skirt outside the band (6 dB per octave per order)."""

    def __post_init__(self) -> None:
        """Check the skirts."""
        if self.order < 1:
            raise ValueError(f"a noise band's order is at least 1, got {self.order}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Range:
    """The range a value is drawn from, uniformly; the field's name gives the unit."""

    low: float
    """Smallest value."""

    high: float
    """Largest value (not drawn exactly)."""

    def __post_init__(self) -> None:
        """Check the order of the ends."""
        if self.low > self.high:
            raise ValueError(f"a range needs low <= high, got {self}")

    def draw(
        self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None
    ) -> NDArray[np.float64]:
        """Return ``size`` uniform draws from the range (``rng.uniform(low, high, size)``)."""
        return np.asarray(rng.uniform(self.low, self.high, size))

    def at(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return the values the range gives unit draws ``u`` (0 gives ``low``)."""
        return np.asarray(self.low + (self.high - self.low) * u)

    def draw_one(self, rng: np.random.Generator) -> float:
        """Return one uniform draw from the range (``rng.uniform(low, high)``)."""
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True, kw_only=True, slots=True)
class Count:
    """A whole number drawn uniformly from ``low`` to ``high``, both included."""

    low: int
    """Smallest count."""

    high: int
    """Largest count (included)."""

    def __post_init__(self) -> None:
        """Check the order of the ends."""
        if not 0 <= self.low <= self.high:
            raise ValueError(f"a count needs 0 <= low <= high, got {self}")

    def draw(self, rng: np.random.Generator, size: int) -> NDArray[np.int64]:
        """Return ``size`` draws (``rng.integers(low, high + 1, size)``)."""
        return np.asarray(rng.integers(self.low, self.high + 1, size), dtype=np.int64)

    def draw_one(self, rng: np.random.Generator) -> int:
        """Return one draw (``rng.integers(low, high + 1)``)."""
        return int(rng.integers(self.low, self.high + 1))


@dataclass(frozen=True, kw_only=True, slots=True)
class SoftLimit:
    """The soft limiter over a trigger's mono mix (``events.soft_limit``)."""

    knee: float
    """Level above which peaks are bent softly (linear)."""

    ceiling: float
    """Level the bent peaks never reach (linear)."""

    def __post_init__(self) -> None:
        """Check that the knee sits under the ceiling."""
        if not 0.0 < self.knee < self.ceiling:
            raise ValueError(f"a soft limit needs 0 < knee < ceiling, got {self}")
