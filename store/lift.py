"""Did the campaign work? Its groups (variant A, variant B, the hold-out), the reservations each group's
patients made in their 28 days, and the lift of one group against another with a 95% confidence interval.

The manual's conversion (store.stats.conversion_of) stays as it is, beside these figures: it counts every
booking a patient would have made anyway; the lift against the hold-out is what the campaign added.

Each group's patients and reservations come from one SQL query per campaign, as a histogram (how many
patients made 0, 1, 2, … reservations); the interval is computed from it with scipy; the per-day curves of
the details screen's chart with pandas. scipy and pandas take most of a second to import: they are loaded
when a lift or a curve is asked for, not by every command that reads the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from store.db import database, dialect
from store.experiments import NOT_DRAWN
from store.models import ACCEPTED_STATES
from store.stats import CONVERSION_DAYS

if TYPE_CHECKING:
    import pandas

GROUPS = ("a", "b", "holdout")
HELD_OUT = "held_out"
CONFIDENCE = 0.95
# Below 30 patients in either group no interval is given. Welch's t interval leans on each group's mean
# reservations per patient being near-normal; counts of reservations are skewed (most patients make none).
# Simulated on Poisson and overdispersed counts at 0.05-0.3 reservations a patient, the 95% interval holds
# the truth in 92-96% of draws at 30 patients a group, but in as few as 83% at 10.
MIN_GROUP_PATIENTS = 30
# Rates, differences and bounds to 4 decimals, as every rate of the stats document (store.figures.rate).
DECIMALS = 4


@dataclass(frozen=True)
class GroupFigures:
    """One group's patients by how many reservations each made in the 28 days after their message (the
    hold-out: after the campaign sent its others): `histogram` pairs (reservations, patients), fewest
    first."""

    histogram: tuple[tuple[int, int], ...] = ()

    @property
    def patients(self) -> int:
        return sum(patients for _reservations, patients in self.histogram)

    @property
    def reservations(self) -> int:
        return sum(reservations * patients for reservations, patients in self.histogram)

    @property
    def mean(self) -> float | None:
        """Reservations per patient, unrounded; none of no patients."""
        return self.reservations / self.patients if self.patients else None

    @property
    def rate(self) -> float | None:
        """Reservations per patient to 4 decimals, as the stats document gives it."""
        mean = self.mean
        return round(mean, DECIMALS) if mean is not None else None

    def as_document(self) -> dict[str, Any]:
        return {"patients": self.patients, "reservations": self.reservations, "rate": self.rate}


@dataclass(frozen=True)
class Groups:
    """A campaign's groups: `a` (variant A, or the one body), `b` (variant B), `holdout` (kept out, never
    sent); None where the campaign has no message in that group."""

    a: GroupFigures | None = None
    b: GroupFigures | None = None
    holdout: GroupFigures | None = None

    def present(self) -> Iterator[tuple[str, GroupFigures]]:
        """The groups the campaign has, by name, in the order a, b, holdout."""
        for name in GROUPS:
            group = getattr(self, name)
            if group is not None:
                yield name, group

    def as_document(self) -> dict[str, Any]:
        """The stats document's `groups`: `{"a": {"patients", "reservations", "rate"}, …}`, those present."""
        return {name: group.as_document() for name, group in self.present()}


@dataclass(frozen=True)
class Lift:
    """How many more reservations per patient group `of` made than group `against` in their 28 days
    (`difference` = rate(of) − rate(against)), with its 95% interval (`low`, `high`: none below the minimum
    group size). `significant`: the interval excludes zero."""

    of: str
    against: str
    difference: float
    low: float | None
    high: float | None
    significant: bool

    def as_document(self) -> dict[str, Any]:
        """The stats document's entry of `lift`."""
        return {
            "of": self.of,
            "against": self.against,
            "difference": round(self.difference, DECIMALS),
            "low": round(self.low, DECIMALS) if self.low is not None else None,
            "high": round(self.high, DECIMALS) if self.high is not None else None,
            "significant": self.significant,
        }


# Each variant against the hold-out (what it added), then B against A (whether the challenger did better
# than the first body: a positive difference says B brought more reservations).
COMPARED = (("a", "holdout"), ("b", "holdout"), ("b", "a"))


def _campaign_sql() -> str:
    """The CTEs both queries start from, for the campaign at the one placeholder: `grouped` (every message
    with its group, and the time its 28 days count from when it counts) and `windowed` (each patient of a
    group, the earliest of their messages in it, and each reservation they made in its 28 days, if any)."""
    p = database.param
    accepted = ", ".join(f"'{s}'" for s in ACCEPTED_STATES)
    window_end = dialect().plus_days("t.since", CONVERSION_DAYS)
    last_end = dialect().plus_days("MAX(since)", CONVERSION_DAYS)
    return f"""
        grouped AS (
            SELECT CASE WHEN m.state = '{HELD_OUT}' THEN 'holdout'
                        WHEN m.variant = 'b' THEN 'b' ELSE 'a' END AS grp,
                   m.contact_id,
                   CASE WHEN m.state = '{HELD_OUT}' THEN m.held_out_at
                        WHEN m.state IN ({accepted}) THEN m.sent_at END AS since
            FROM message m WHERE m.campaign_id = {p} AND (m.variant IS NULL OR m.variant <> '{NOT_DRAWN}')
        ),
        targets AS (
            SELECT g.grp, g.contact_id, MIN(g.since) AS since
            FROM grouped g JOIN contact c ON c.id = g.contact_id
            WHERE g.since IS NOT NULL AND c.kind = 'patient'
            GROUP BY g.grp, g.contact_id
        ),
        windowed AS (
            SELECT t.grp, t.contact_id, t.since, r.created_at
            FROM targets t
            LEFT JOIN reservation r ON r.contact_id = t.contact_id
                 AND r.created_at >= t.since AND r.created_at < {window_end}
                 -- the same bounds for all: lets PostgreSQL drop most reservations before the join
                 AND r.created_at >= (SELECT MIN(since) FROM targets)
                 AND r.created_at < (SELECT {last_end} FROM targets)
        )
    """


def group_figures(campaign_id: int) -> Groups | None:
    """The campaign's groups and their figures; None when it has neither a hold-out nor a variant B.

    A group counts its patients (contacts of kind patient) whose message was accepted by the provider (the
    hold-out: held out), each once from their earliest message in it, and the reservations they made in
    the 28 days from then. A group whose messages have not gone yet is present with no patients."""
    sql = f"""
        WITH {_campaign_sql()},
        per_patient AS (
            SELECT grp, contact_id, COUNT(created_at) AS reservations
            FROM windowed GROUP BY grp, contact_id
        )
        SELECT grp, reservations, COUNT(*) FROM per_patient GROUP BY grp, reservations
        UNION ALL  -- the groups it has, with or without patients yet
        SELECT DISTINCT grp, CAST(NULL AS INTEGER), 0 FROM grouped
    """
    histograms: dict[str, list[tuple[int, int]]] = {}
    for group, reservations, patients in database.execute_sql(sql, [campaign_id]):
        found = histograms.setdefault(group, [])
        if reservations is not None:
            found.append((int(reservations), int(patients)))
    if "holdout" not in histograms and "b" not in histograms:
        return None
    return Groups(**{name: GroupFigures(tuple(sorted(h))) for name, h in histograms.items()})


def lift_of(groups: Groups) -> list[Lift]:
    """A against the hold-out, B against the hold-out, B against A: those whose two groups have patients.

    The interval is Welch's unequal-variance t interval for the difference in mean reservations per patient
    (counts, not yes/no), at 95%, by scipy.stats.ttest_ind(equal_var=False) on each patient's reservations.
    None below MIN_GROUP_PATIENTS in either group, nor where neither group varies (every patient of each
    made the same number of reservations), which gives an interval of no width."""
    found = []
    for of, against in COMPARED:
        first, second = getattr(groups, of), getattr(groups, against)
        if first is not None and second is not None and first.patients and second.patients:
            found.append(lift_between(of, first, against, second))
    return found


def lift_between(of: str, first: GroupFigures, against: str, second: GroupFigures) -> Lift:
    """The lift of group `first` (named `of`) against group `second` (named `against`): see `lift_of`."""
    difference = _mean(first) - _mean(second)
    interval = welch_interval(first, second)
    if interval is None:
        return Lift(of, against, difference, None, None, False)
    low, high = interval
    return Lift(of, against, difference, low, high, low > 0 or high < 0)


def welch_interval(first: GroupFigures, second: GroupFigures) -> tuple[float, float] | None:
    """The 95% Welch t interval of mean reservations per patient of `first` minus that of `second`; None
    below the minimum group size or when neither group varies."""
    if min(first.patients, second.patients) < MIN_GROUP_PATIENTS:
        return None
    if len(first.histogram) == 1 and len(second.histogram) == 1:
        return None
    from scipy import stats

    result = stats.ttest_ind(_per_patient(first), _per_patient(second), equal_var=False)
    interval = result.confidence_interval(CONFIDENCE)
    return float(interval.low), float(interval.high)


def _mean(group: GroupFigures) -> float:
    mean = group.mean
    assert mean is not None  # lift_of compares groups with patients only
    return mean


def _per_patient(group: GroupFigures) -> Any:
    """Each patient's reservations, rebuilt from the histogram: a numpy array."""
    import numpy

    counts = numpy.array([c for c, _ in group.histogram], dtype=numpy.float64)
    patients = numpy.array([n for _, n in group.histogram], dtype=numpy.int64)
    return numpy.repeat(counts, patients)


def _days_after(later: str, earlier: str) -> str:
    """Whole days from the timestamp `earlier` to `later`, as SQL (store.dialect has no such fragment)."""
    if dialect().name == "sqlite":  # times are text: to the millisecond, then whole days
        milliseconds = f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400000) AS INTEGER)"
        return f"({milliseconds} / 86400000)"
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400) AS INTEGER)"


def curves(campaign_id: int) -> pandas.DataFrame:
    """Cumulative reservations per patient by day after the message (the hold-out: after the campaign sent
    its others), days 0 to 27 as the index, a column per group with patients (a, b, holdout): the details
    screen's chart. Any campaign has at least group `a` once it has sent."""
    import pandas

    day = _days_after("created_at", "since")
    sql = f"""
        WITH {_campaign_sql()}
        SELECT grp, {day} AS day, COUNT(*) FROM windowed WHERE created_at IS NOT NULL GROUP BY grp, {day}
        UNION ALL  -- rows with no day: each group's patients
        SELECT grp, CAST(NULL AS INTEGER), COUNT(*) FROM targets GROUP BY grp
    """
    rows = database.execute_sql(sql, [campaign_id]).fetchall()
    return _cumulative(pandas.DataFrame(rows, columns=["group", "day", "count"]))


def _cumulative(rows: pandas.DataFrame) -> pandas.DataFrame:
    """From (group, day, reservations) rows and (group, None, patients) rows: the curves of `curves`."""
    import pandas

    days = pandas.RangeIndex(CONVERSION_DAYS, name="day")
    patients = rows[rows["day"].isna()].set_index("group")["count"]
    names = [name for name in GROUPS if patients.get(name, 0) > 0]
    booked = rows[rows["day"].notna()].astype({"day": "int64", "count": "int64"})
    per_day = (
        booked.groupby(["day", "group"])["count"].sum().unstack("group")
        if len(booked)
        else pandas.DataFrame()
    )
    per_day = per_day.reindex(index=days, columns=names).fillna(0)
    found: pandas.DataFrame = per_day.cumsum() / patients.reindex(names).astype("float64")
    found.columns.name = "group"
    return found
