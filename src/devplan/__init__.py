"""devplan: personalised, strength-focused development plans from assessments.

The public API is listed in ``__all__``; everything in modules whose name
starts with an underscore is private.
"""

from devplan._batch import RunReport, run_batch
from devplan._bundle import (
    Bundle,
    BundleError,
    StreamedBundle,
    open_bundle,
    read_bundle,
    write_bundle,
)
from devplan._calibration import calibration
from devplan._config import (
    Config,
    MentoringConfig,
    PlanConfig,
    ScoringConfig,
    TrackConfig,
    load_config,
)
from devplan._engine import build_plans, generate_plans
from devplan._evaluate import Evaluation, evaluate
from devplan._fairness import FairnessAudit, audit_fairness
from devplan._learning import learn_item_effects, read_item_effects, write_item_effects
from devplan._mentoring import match_mentors
from devplan._models import Plan, plan_json_schema
from devplan._plans import PlanResult
from devplan._recommend import PathRecommender
from devplan._reports import (
    employee_report,
    manager_report,
    organisation_report,
    write_reports,
)
from devplan._scoring import CompetencyScorer, NormPercentiles, summarise_profiles
from devplan._tna import TNAResult, tna
from devplan._tracks import (
    TrackClassifier,
    assign_tracks,
    cross_validated_report,
    nine_box,
    track_features,
    track_summary,
)

__version__ = "0.1.0"

__all__ = [
    "Bundle",
    "BundleError",
    "CompetencyScorer",
    "Config",
    "MentoringConfig",
    "PlanConfig",
    "FairnessAudit",
    "ScoringConfig",
    "StreamedBundle",
    "TNAResult",
    "TrackClassifier",
    "TrackConfig",
    "__version__",
    "assign_tracks",
    "audit_fairness",
    "calibration",
    "cross_validated_report",
    "employee_report",
    "evaluate",
    "Evaluation",
    "load_config",
    "manager_report",
    "match_mentors",
    "NormPercentiles",
    "PathRecommender",
    "Plan",
    "PlanResult",
    "build_plans",
    "generate_plans",
    "learn_item_effects",
    "read_item_effects",
    "write_item_effects",
    "plan_json_schema",
    "nine_box",
    "open_bundle",
    "organisation_report",
    "read_bundle",
    "run_batch",
    "RunReport",
    "summarise_profiles",
    "tna",
    "track_features",
    "track_summary",
    "write_bundle",
    "write_reports",
]


def __getattr__(name: str):
    # Subpackages load on first use so that ``import devplan`` stays light.
    if name in ("datasets", "plot", "roi", "stats"):
        import importlib

        return importlib.import_module(f"devplan.{name}")
    raise AttributeError(f"module 'devplan' has no attribute {name!r}")
