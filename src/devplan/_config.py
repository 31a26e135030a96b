"""Run settings: one validated pydantic model, loadable from ``devplan.toml``."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CONFIG_FILENAME = "devplan.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScoringConfig(_Section):
    """How assessments become competency scores.

    Every field is a parameter of :class:`devplan.CompetencyScorer`; see
    there for the details.

    Attributes
    ----------
    peer_min_raters : int, default=3
        Anonymity threshold: a peer group with fewer raters is suppressed and
        not folded into the "others" score.
    direct_report_min_raters : int, default=3
        The same threshold for direct reports.
    rater_weights : dict or None, default=None
        Weight per rater type other than self; ``None`` weighs each type by
        the precision of its mean.
    leniency_correction : bool, default=True
        Centre each rater who rated several people.
    leniency_method : {"co_rater", "own_mean"}, default="co_rater"
        Centre on the co-raters of the same people, or on the rater's mean.
    cycle_window_days : int, default=120
        Ratings this close before a person's latest rating form one cycle.
    norm_by : {None, "role_level"}, default=None
        One norm group, or one per role level.
    blind_spot_threshold : float or None, default=None
        Self minus others gap that marks a blind spot (or, negative, a hidden
        strength). ``None`` means one third of the number of scale points
        (5/3 = 1.67 on a 1-5 scale).
    strength_percentile : float, default=75
        Normative percentile a competency must reach to count as a strength.
    ipsative_top : int, default=5
        A strength must also be among the person's own top competencies.
    min_strength_confidence : float, default=0.5
        Confidence a strength needs.
    need_z : float, default=1.0
        A need is a shortfall larger than this many standard errors.
    agreement_threshold : float, default=0.5
        Mean self minus others gap for over- and under-estimators.
    shrinkage : bool, default=True
        Report empirical Bayes estimates of true levels as scores.
    """

    peer_min_raters: int = Field(3, ge=1)
    direct_report_min_raters: int = Field(3, ge=1)
    rater_weights: (
        dict[Literal["manager", "peer", "direct_report", "assessor"], float] | None
    ) = None
    leniency_correction: bool = True
    leniency_method: Literal["co_rater", "own_mean"] = "co_rater"
    cycle_window_days: int = Field(120, ge=1)
    norm_by: Literal["role_level"] | None = None
    blind_spot_threshold: float | None = Field(None, gt=0)
    strength_percentile: float = Field(75.0, gt=0, lt=100)
    ipsative_top: int = Field(5, ge=1)
    min_strength_confidence: float = Field(0.5, ge=0, le=1)
    need_z: float = Field(1.0, ge=0)
    agreement_threshold: float = Field(0.5, ge=0)
    shrinkage: bool = True


class TrackConfig(_Section):
    """Thresholds and precedence of the rule-based track assignment.

    Attributes
    ----------
    new_manager_max_months : float, default=12
        A people manager this many months or fewer in role is a new manager.
    struggling_max_performance : float, default=2.5
        A performance rating below this marks a struggling manager.
    struggling_min_critical_gaps : int, default=2
        This many critical gaps in the scored profile mark a struggling
        manager only when the evidence converges: the manager has no
        performance rating or one below ``struggling_solid_performance``.
        The gaps alone never do.
    struggling_solid_performance : float, default=3.5
        A "solid" performance rating: a manager rated at or above it is never
        struggling because of critical gaps; the gaps are named in the
        reasons and the plan develops them, and the other rules decide the
        track. At least ``struggling_max_performance``.
    high_potential_min_performance : float, default=3.5
        Performance needed, with high potential, for the high-potential track.
    high_potential_min_percentile : float, default=75
        With no performance rating, the mean profile percentile (and no
        critical gap) that stands in for it.
    high_potential_includes_individuals : bool, default=False
        Also put individual contributors with high potential on the
        high-potential track (by default only people managers).
    calibration_high_performance : float, default=4.5
        Calibration (:func:`devplan.calibration`): a performance rating at or
        above this with a mean profile percentile at or below
        ``calibration_low_percentile`` is a disagreement to discuss.
    calibration_low_percentile : float, default=25
        The low side of that disagreement.
    calibration_low_performance : float, default=2.0
        Calibration: a performance rating at or below this with a mean
        profile percentile at or above ``calibration_high_percentile`` is a
        disagreement. Below ``calibration_high_performance``.
    calibration_high_percentile : float, default=75
        The high side of that disagreement; above
        ``calibration_low_percentile``.
    calibration_min_critical_gaps : int, default=2
        Calibration: potential rated high with at least this many critical
        gaps in the scored profile is a disagreement.
    precedence : list of str, default=["new_manager", "struggling_manager",
        "high_potential"]
        Which track wins when several rules fire; the others are reported as
        secondary flags.
    """

    new_manager_max_months: float = Field(12.0, ge=0)
    struggling_max_performance: float = Field(2.5, ge=1, le=5)
    struggling_min_critical_gaps: int = Field(2, ge=1)
    struggling_solid_performance: float = Field(3.5, ge=1, le=5)
    high_potential_min_performance: float = Field(3.5, ge=1, le=5)
    high_potential_min_percentile: float = Field(75.0, gt=0, lt=100)
    high_potential_includes_individuals: bool = False
    calibration_high_performance: float = Field(4.5, ge=1, le=5)
    calibration_low_percentile: float = Field(25.0, ge=0, le=100)
    calibration_low_performance: float = Field(2.0, ge=1, le=5)
    calibration_high_percentile: float = Field(75.0, ge=0, le=100)
    calibration_min_critical_gaps: int = Field(2, ge=1)
    precedence: tuple[
        Literal["new_manager", "struggling_manager", "high_potential"], ...
    ] = ("new_manager", "struggling_manager", "high_potential")

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        expected = {"new_manager", "struggling_manager", "high_potential"}
        if len(self.precedence) != 3 or set(self.precedence) != expected:
            raise ValueError(
                f"Got precedence={list(self.precedence)!r}; expected each of "
                "new_manager, struggling_manager, high_potential once."
            )
        if self.struggling_solid_performance < self.struggling_max_performance:
            raise ValueError(
                "Got struggling_solid_performance="
                f"{self.struggling_solid_performance!r}; expected at least "
                f"struggling_max_performance={self.struggling_max_performance!r}."
            )
        if self.calibration_low_performance >= self.calibration_high_performance:
            raise ValueError(
                "Got calibration_low_performance="
                f"{self.calibration_low_performance!r}; expected below "
                "calibration_high_performance="
                f"{self.calibration_high_performance!r}."
            )
        if self.calibration_low_percentile >= self.calibration_high_percentile:
            raise ValueError(
                "Got calibration_low_percentile="
                f"{self.calibration_low_percentile!r}; expected below "
                "calibration_high_percentile="
                f"{self.calibration_high_percentile!r}."
            )
        return self


class PlanConfig(_Section):
    """Shape of each development plan.

    Attributes
    ----------
    start_date : date or None, default=None
        First day of every plan. ``None`` means the first day of the month
        after the latest assessment in the bundle, so that a rerun on the same
        data gives the same dates.
    horizon_months : int, default=12
        Length of the plan.
    strength_focus : float, default=0.7
        Target share of plan hours on strengths for everyone with a signature
        strength the catalog can serve (except struggling managers and
        blocking critical gaps, whose gap hours come first).
    strength_tolerance : float, default=0.05
        Plans keep their strength share within this of ``strength_focus``.
    talent_multiplier : float, default=1.5
        Value of growth in a signature strength relative to gap closed.
    track_weight : float, default=0.5
        Value of growth in the track's core competencies.
    role_weight : float, default=0.2
        Value of growth in the role's other competencies (broadening).
    saturation : float, default=0.5
        Scale points of growth in one competency after which its returns
        have fallen to 1/e (diminishing returns).
    mix_targets : (float, float, float), default=(0.7, 0.2, 0.1)
        70-20-10: target shares of learning hours for experience, exposure
        and education (a soft term of the objective, never a cap).
    mix_weight : float, default=0.3
        Weight of the 70-20-10 term relative to a unit of gap closed.
    modality_discount : float, default=0.7
        Value factor of an item outside the preferred modality.
    blocking_margin : float, default=0.5
        A critical gap above this many scale points is blocking: gap hours
        come first.
    max_items_per_competency : int or None, default=None
        Optional hard cap on the items serving one competency.
    solver : {"greedy", "exact"}, default="greedy"
        The vectorised greedy, or the exact optimum per person (HiGHS MILP)
        for small organisations.
    """

    start_date: dt.date | None = None
    horizon_months: int = Field(12, ge=1, le=36)
    strength_focus: float = Field(0.7, ge=0, le=1)
    strength_tolerance: float = Field(0.05, ge=0, le=0.5)
    talent_multiplier: float = Field(1.5, ge=0)
    track_weight: float = Field(0.5, ge=0)
    role_weight: float = Field(0.2, ge=0)
    saturation: float = Field(0.5, gt=0)
    mix_targets: tuple[float, float, float] = (0.7, 0.2, 0.1)
    mix_weight: float = Field(0.3, ge=0)
    modality_discount: float = Field(0.7, ge=0, le=1)
    blocking_margin: float = Field(0.5, ge=0)
    max_items_per_competency: int | None = Field(None, ge=1)
    solver: Literal["greedy", "exact"] = "greedy"

    @model_validator(mode="after")
    def _check_mix(self) -> Self:
        if (
            any(t < 0 for t in self.mix_targets)
            or abs(sum(self.mix_targets) - 1) > 1e-9
        ):
            raise ValueError(
                f"Got mix_targets={list(self.mix_targets)!r}; expected three shares "
                "(experience, exposure, education) >= 0 that add up to 1."
            )
        return self


class MentoringConfig(_Section):
    """How internal mentors are matched to needs (:func:`devplan.match_mentors`).

    Attributes
    ----------
    enabled : bool, default=True
        Match mentors in every planning run.
    capacity : int, default=2
        Mentees (mentee × competency matches) one mentor takes at most, over
        all competencies.
    exclude_reporting_line : bool, default=True
        A mentor is never in the mentee's own reporting line.
    reporting_line_levels : int, default=1
        How far the excluded reporting line reaches, up and down: 1 excludes
        the mentee's manager and direct reports, 2 also the manager's manager
        and the reports' reports, and so on.
    same_language : bool, default=True
        Mentor and mentee share a language (an unknown language matches any).
    same_location : bool, default=False
        Mentor and mentee share a location, unless both can meet remotely
        (``modality_preference`` other than ``in_person``).
    min_seniority : {"same_or_higher", "any"}, default="same_or_higher"
        The mentor's role level is at least the mentee's (levels from
        ``roles.role_level``; an unknown level does not exclude).
    min_confidence : float, default=0.5
        Confidence (reliability, 0-1) the mentor's strength needs.
    min_lead : float, default=0.5
        Scale points the mentor's score must exceed the mentee's by (it must
        also reach the mentee's required level).
    candidates_per_need : int or None, default=None
        Candidate mentors kept per need (best first) before the assignment
        is solved; the result says whether pruning provably lost nothing
        (see :func:`devplan.match_mentors`). ``None`` solves the exact
        assignment over every candidate when the need × mentor pairs fit
        in ``max_edges``; beyond that, a greedy matches transfer-risk needs
        first, then the largest needs to the strongest allowed mentors
        (every constraint kept; the result's ``attrs["greedy"]`` is True).
    max_edges : int, default=2000000
        Budget of need × mentor pairs for the exact solver when
        ``candidates_per_need`` is None (about 10,000 employees).
    pool_size : int, default=100000
        Organisations larger than this are matched in pools of at most
        this many people (employees ordered by business unit, then id, and
        cut into pools of equal size): a mentor is found for a need within
        the mentee's pool only. Comparing every need with every possible
        mentor grows with the square of the organisation; pools keep it
        linear (a million employees are matched in ten pools).
    mentor_hours : float, default=12
        Hours of the mentoring role in the mentor's plan, per mentee and
        competency; a mentor takes no more mentees than their learning time
        left after their own plan allows.

    Examples
    --------
    >>> from devplan import Config
    >>> cfg = Config(mentoring={"capacity": 3, "same_location": True})
    >>> cfg.mentoring.capacity, cfg.mentoring.exclude_reporting_line
    (3, True)
    """

    enabled: bool = True
    capacity: int = Field(2, ge=1)
    exclude_reporting_line: bool = True
    reporting_line_levels: int = Field(1, ge=1, le=20)
    same_language: bool = True
    same_location: bool = False
    min_seniority: Literal["same_or_higher", "any"] = "same_or_higher"
    min_confidence: float = Field(0.5, ge=0, le=1)
    min_lead: float = Field(0.5, ge=0)
    candidates_per_need: int | None = Field(None, ge=1)
    max_edges: int = Field(2_000_000, ge=1)
    pool_size: int = Field(100_000, ge=2)
    mentor_hours: float = Field(12.0, gt=0)


class Config(_Section):
    """All settings of a devplan run, with documented defaults.

    Load one from TOML with :meth:`Config.from_toml` or :func:`load_config`;
    unknown keys and out-of-range values are rejected.

    Attributes
    ----------
    scale_min, scale_max : float, default=1, 5
        The rating scale of assessments and role requirements.
    learning_hours_per_month : float, default=4
        Learning time of an employee who has no value of their own.
    budget : float, default=1500
        Money per employee for the plan year when they have no value of their
        own.
    currency : str, default="EUR"
        Currency of budgets and costs, for reports.
    scoring, tracks, plan, mentoring : sections
        See :class:`ScoringConfig`, :class:`TrackConfig`, :class:`PlanConfig`,
        :class:`MentoringConfig`.

    Examples
    --------
    >>> from devplan import Config
    >>> cfg = Config(plan={"strength_focus": 0.6})
    >>> cfg.plan.strength_focus, cfg.scale_max
    (0.6, 5.0)
    >>> Config(scale_min=5, scale_max=1)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Config
    ...
    """

    scale_min: float = 1.0
    scale_max: float = 5.0
    learning_hours_per_month: float = Field(4.0, ge=0)
    budget: float = Field(1500.0, ge=0)
    currency: str = Field("EUR", min_length=1)
    scoring: ScoringConfig = ScoringConfig()
    tracks: TrackConfig = TrackConfig()
    plan: PlanConfig = PlanConfig()
    mentoring: MentoringConfig = MentoringConfig()

    @model_validator(mode="after")
    def _check_scale(self) -> Self:
        if not self.scale_min < self.scale_max:
            raise ValueError(
                f"Got scale_min={self.scale_min!r} and scale_max={self.scale_max!r};"
                " expected scale_min < scale_max."
            )
        return self

    @property
    def blind_spot_threshold(self) -> float:
        """Self-other gap for a blind spot: the set value or a third of the scale."""
        if self.scoring.blind_spot_threshold is not None:
            return self.scoring.blind_spot_threshold
        return (self.scale_max - self.scale_min + 1) / 3

    @classmethod
    def from_toml(cls, path: str | Path) -> Config:
        """Read settings from a TOML file.

        Parameters
        ----------
        path : str or Path
            A TOML file with top-level keys and ``[scoring]``, ``[tracks]``,
            ``[plan]``, ``[mentoring]`` sections.

        Returns
        -------
        Config

        Raises
        ------
        ValueError
            Naming the file, the key, the value and what is allowed.
        """
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path}: cannot read settings: {exc}") from exc
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "config") -> Config:
        """Validate a nested dict of settings, with messages that name ``source``."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ValueError(_explain(exc, source)) from exc


def _explain(exc: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid settings"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key (value {err['input']!r})")
        else:
            lines.append(f"  {key}: got {err['input']!r}; {err['msg']}")
    return "\n".join(lines)


def load_config(path: str | Path | None = None, *, bundle: str | Path | None = None):
    """Settings for a run: an explicit file, else the bundle's, else defaults.

    Parameters
    ----------
    path : str, Path or None, default=None
        A TOML settings file. Takes precedence.
    bundle : str, Path or None, default=None
        A bundle folder; its ``devplan.toml`` is used when ``path`` is None.

    Returns
    -------
    Config

    Examples
    --------
    >>> from devplan import load_config
    >>> load_config().plan.horizon_months
    12
    """
    if path is not None:
        return Config.from_toml(path)
    if bundle is not None:
        candidate = Path(bundle) / CONFIG_FILENAME
        if candidate.is_file():
            return Config.from_toml(candidate)
    return Config()
