"""How a campaign's lift is said, the same in the details and in `campaigns stats`: markup, no Textual."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.lift import Groups, Lift

GROUP_NAMES = {"a": "A", "b": "B", "holdout": "hold-out"}


def lift_line(lift: Lift, groups: Groups) -> str:
    """One lift as the details say it: "B vs hold-out: +0.031 per patient (95% CI +0.012 to +0.050),
    significant"; markup."""
    from store.lift import MIN_GROUP_PATIENTS

    said = f"{GROUP_NAMES[lift.of]} vs {GROUP_NAMES[lift.against]}: [b]{lift.difference:+.3f}[/b] per patient"
    if lift.low is not None and lift.high is not None:
        verdict = "[b green]significant[/b green]" if lift.significant else "not significant"
        return f"{said} (95% CI {lift.low:+.3f} to {lift.high:+.3f}), {verdict}"
    sizes = [getattr(groups, name).patients for name in (lift.of, lift.against)]
    if min(sizes) < MIN_GROUP_PATIENTS:
        return f"{said}, too few patients for an interval"  # under MIN_GROUP_PATIENTS in one
    return f"{said}, no interval: every patient made as many reservations"
