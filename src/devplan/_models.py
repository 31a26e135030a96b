"""Pydantic plan documents: the edge where plans leave devplan as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Purpose = Literal["leverage_strength", "develop_need", "track_core", "broaden_role"]
Track = Literal["new_manager", "struggling_manager", "high_potential", "core"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanItem(_Model):
    """One dated step of a learning path.

    A ``mentoring`` item names the proposed internal mentor (``mentor_id``);
    a mentor's own role in someone else's development is a
    ``leverage_strength`` item naming the mentee (``mentee_id``).
    """

    step: int = Field(ge=1)
    item_id: str
    title: str
    kind: str
    purpose: Purpose
    competency_id: str
    start_on: dt.date
    end_on: dt.date
    hours: float = Field(gt=0)
    cost: float = Field(ge=0)
    rationale: str
    mentor_id: str | None = None
    mentee_id: str | None = None


class ManagerAction(_Model):
    """What the line manager does for the plan to transfer to the job."""

    date: dt.date
    action: str
    competency_id: str | None = None
    item_id: str | None = None
    description: str


class FollowUp(_Model):
    """A meeting of the year-ahead follow-up schedule."""

    date: dt.date
    kind: Literal["manager_kickoff", "checkin", "quarterly_review", "annual_review"]
    with_whom: str
    agenda: str
    reminder_on: dt.date | None = None
    milestone: str | None = None


class UnmetNeed(_Model):
    """A critical or important gap the catalog could not serve, and why."""

    competency_id: str
    importance: str | None = None
    gap: float | None = None
    reason: str


class TransferRisk(_Model):
    """The manager is weak in a competency the plan develops."""

    competency_id: str
    manager_id: str
    suggested_coach_id: str | None = None
    suggestion: str


class Plan(_Model):
    """A person's whole development plan, as the library dumps it to JSON.

    The figures are those of the ``plan_summary`` row: ``status`` is
    ``"planned"`` or ``"no plan"``; ``hours_available`` the learning hours
    over the horizon and ``hours_used_share`` the plan's hours over them;
    ``unused_reason`` why time is left (empty when the time is used);
    ``strength_share``, ``gap_share``, ``track_share`` and ``role_share`` the
    shares of the plan's hours on strengths, needs, track core content and
    broadening the role's other competencies, and the three
    ``*_share`` of the 70-20-10 mix the shares of its hours on experience,
    exposure and education (``None`` for an empty plan).

    Examples
    --------
    >>> from devplan import Plan
    >>> sorted(Plan.model_json_schema()["properties"])[:4]
    ['education_share', 'employee_id', 'end_on', 'expected_benefit']
    """

    employee_id: str
    track: Track
    track_reasons: str
    start_on: dt.date
    end_on: dt.date
    status: Literal["planned", "no plan"] = "planned"
    total_hours: float = Field(ge=0)
    total_cost: float = Field(ge=0)
    hours_available: float = Field(0.0, ge=0)
    hours_used_share: float | None = Field(None, ge=0)
    unused_reason: str = ""
    strength_share: float | None = Field(None, ge=0, le=1)
    gap_share: float | None = Field(None, ge=0, le=1)
    track_share: float | None = Field(None, ge=0, le=1)
    role_share: float | None = Field(None, ge=0, le=1)
    experience_share: float | None = Field(None, ge=0, le=1)
    exposure_share: float | None = Field(None, ge=0, le=1)
    education_share: float | None = Field(None, ge=0, le=1)
    expected_benefit: float = Field(ge=0)
    items: list[PlanItem]
    manager_actions: list[ManagerAction]
    followups: list[FollowUp]
    unmet_needs: list[UnmetNeed]
    transfer_risks: list[TransferRisk]

    def _repr_html_(self) -> str:
        # shown by Jupyter: the plan's timeline and steps, escaped
        from devplan._reports import plan_html

        return plan_html(self)


def plan_json_schema() -> dict:
    """The published JSON Schema of a plan document (``docs/plan.schema.json``).

    Returns
    -------
    dict

    Examples
    --------
    >>> from devplan import plan_json_schema
    >>> plan_json_schema()["title"]
    'Plan'
    """
    return Plan.model_json_schema()
