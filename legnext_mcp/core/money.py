"""Prices: what an operation will cost, in the unit of the API that runs it, or honestly unknown."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Estimate:
    """The amount a request will reserve (and charge if it succeeds), with how that was worked out.

    ``amount`` is None when nobody knows (a relay without a price table): never a guess.
    """

    amount: int | None
    basis: str
    unit: str = "points"
    #: US dollars, when the unit has a known rate (Legnext: 1000 points = $1).
    usd: float | None = None

    def __str__(self) -> str:
        if self.amount is None:
            return f"an unknown price ({self.basis})"
        money = f"${self.usd:.2f}; " if self.usd is not None else ""
        return f"{self.amount} {self.unit} ({money}{self.basis})"
