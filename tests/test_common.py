"""scikit-learn's conformance suite on every numeric estimator of devplan.

``CompetencyScorer`` is left out on purpose: it takes tidy assessment tables
(a Bundle or an assessments DataFrame with string ids), not a numeric matrix,
so the numeric checks do not apply to it; its rules are tested in
``test_scoring.py``, including ``clone``, ``get_params`` and ``set_output``.
"""

from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from devplan import CompetencyScorer, NormPercentiles, TrackClassifier

ESTIMATORS = [
    NormPercentiles(),
    NormPercentiles(n_quantiles=11),
    TrackClassifier(random_state=0),
]


EXPECTED_FAILURES = {
    "check_class_weight_classifiers": (
        "the check sets class weights of 1000 : 0.0001 and expects predictions to "
        "follow them; TrackClassifier calibrates probabilities on held-out folds "
        "to the observed class frequencies, which by design undoes such extreme "
        "re-weighting"
    ),
}


def _expected_failures(estimator):
    if isinstance(estimator, TrackClassifier):
        return EXPECTED_FAILURES
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_conformance(estimator, check):
    check(estimator)


def test_scorer_follows_the_estimator_api():
    scorer = CompetencyScorer(peer_min_raters=4, rater_weights={"manager": 2})
    copy = clone(scorer)
    assert copy.get_params() == scorer.get_params()
    assert copy.get_params()["peer_min_raters"] == 4
