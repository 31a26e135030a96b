"""Chunked runs: results never depend on chunking, processes or engine."""

from __future__ import annotations

import pandas as pd
import pytest

import devplan
from devplan import CompetencyScorer, assign_tracks, build_plans, generate_plans
from devplan.datasets import make_organisation


@pytest.fixture(scope="module")
def org():
    bundle = make_organisation(300, random_state=11)
    scorer = CompetencyScorer().fit(bundle)
    return bundle, scorer, generate_plans(bundle, scorer=scorer)


def assert_same(a, b):
    assert list(a.tables) == list(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(
            a.tables[name], b.tables[name], check_exact=True, obj=name
        )


def test_chunk_size_does_not_change_results(org):
    bundle, scorer, whole = org
    assert len(whole.plans) > 300
    # 300 employees in chunks of 64: five chunks, the last one short
    assert_same(whole, generate_plans(bundle, scorer=scorer, chunk_size=64))


def test_worker_processes_give_identical_results(org):
    bundle, scorer, whole = org
    assert_same(whole, generate_plans(bundle, scorer=scorer, chunk_size=100, n_jobs=2))


def test_build_plans_from_given_profiles_matches_generate_plans(org):
    bundle, scorer, whole = org
    profiles = scorer.profiles(bundle)
    tracks = assign_tracks(bundle, profiles)
    built = build_plans(bundle, profiles, tracks, chunk_size=70)
    assert_same(whole, built)


def test_transfer_risks_look_across_chunks(org):
    # managers and their reports fall in different chunks of 10; the risks
    # (a manager's needs) are still found
    bundle, scorer, whole = org
    small = generate_plans(bundle, scorer=scorer, chunk_size=10)
    assert len(whole.transfer_risks) > 0
    pd.testing.assert_frame_equal(whole.transfer_risks, small.transfer_risks)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_jobs": 0}, "n_jobs=0"),
        ({"chunk_size": 0}, "chunk_size=0"),
        ({"engine": "spark"}, "engine='spark'"),
    ],
)
def test_bad_run_settings_are_named(org, kwargs, message):
    bundle, scorer, _ = org
    with pytest.raises(ValueError, match=message):
        generate_plans(bundle, scorer=scorer, **kwargs)


def test_dask_local_cluster_gives_identical_results(org):
    pytest.importorskip("distributed")
    bundle, scorer, whole = org
    # a real LocalCluster with two worker processes, started for the run
    result = generate_plans(
        bundle, scorer=scorer, chunk_size=100, n_jobs=2, engine="dask"
    )
    assert_same(whole, result)


def test_dask_cluster_by_address(org):
    distributed = pytest.importorskip("distributed")
    bundle, scorer, whole = org
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = devplan.generate_plans(
            bundle,
            scorer=scorer,
            chunk_size=150,
            engine="dask",
            scheduler=cluster.scheduler_address,
        )
    assert_same(whole, result)
