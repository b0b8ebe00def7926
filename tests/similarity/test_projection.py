"""The projection the catalog teaches: the WCCN fit (pure numpy), its versions in the
database, and the background refit that builds, scores and activates them."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from service.config import Settings
from service.services import Services
from service.similarity.background import labels, refit
from service.similarity.background.labels import Counts, due
from service.similarity.embedding.projection import Projection, fit, unit
from service.similarity.index import projections
from service.similarity.index.state import current_for, similarity_for
from tests.similarity.conftest import run

NOW = datetime(2026, 12, 4, 12)


def clusters(rng: np.random.Generator, products: int = 4, per: int = 30, d: int = 16):
    """Products apart along the first axes, pictures of one product varying along the last:
    the within-product spread is larger than the distance between products."""
    centres = np.zeros((products, d))
    centres[np.arange(products), np.arange(products)] = 1.0
    labels = np.repeat(np.arange(products), per)
    noise = np.zeros((len(labels), d))
    noise[:, -4:] = rng.normal(0, 2.0, (len(labels), 4))  # light, angle, hand...
    noise[:, :products] += rng.normal(0, 0.1, (len(labels), products))
    return (centres[labels] + noise).astype(np.float32), labels


def nearest_right(vectors: np.ndarray, labels: np.ndarray) -> float:
    sims = unit(vectors) @ unit(vectors).T
    np.fill_diagonal(sims, -np.inf)
    return float(np.mean(labels[np.argmax(sims, axis=1)] == labels))


def test_the_fit_shrinks_what_varies_within_a_product() -> None:
    rng = np.random.default_rng(1)
    vectors, labels = clusters(rng)
    projection = fit(vectors, labels, np.ones(len(labels)), version=3)
    assert projection.version == 3 and projection.dimension == 16
    before, after = nearest_right(vectors, labels), nearest_right(projection.apply(vectors), labels)
    assert before < 0.65 and after > 0.9  # seed 1: 0.62 -> 0.93
    np.testing.assert_allclose(np.linalg.norm(projection.apply(vectors), axis=1), 1.0, rtol=1e-5)
    # weight 0 leaves a picture out of the fit entirely
    noisy = labels.copy()
    noisy[:10] = (noisy[:10] + 1) % 4
    weights = np.where(np.arange(len(labels)) < 10, 0.0, 1.0)
    np.testing.assert_allclose(
        fit(vectors, noisy, weights, 1).matrix,
        fit(vectors[10:], labels[10:], np.ones(len(labels) - 10), 1).matrix,
        rtol=1e-4,
        atol=1e-5,
    )


def test_version_zero_is_the_raw_vector_and_a_projection_round_trips() -> None:
    rng = np.random.default_rng(2)
    raw = rng.normal(size=(5, 8)).astype(np.float32)
    np.testing.assert_allclose(Projection.identity(8).apply(raw), unit(raw), rtol=1e-6)
    vectors, labels = clusters(rng, d=8)
    projection = fit(vectors, labels, np.ones(len(labels)), version=2)
    again = Projection.from_bytes(projection.to_bytes())
    assert again.version == 2 and again.digest() == projection.digest()
    np.testing.assert_array_equal(again.apply(raw), projection.apply(raw))


def test_a_fit_needs_some_spread_within_a_product() -> None:
    one_each = np.eye(3, dtype=np.float32)
    with pytest.raises(ValueError, match="two different pictures"):
        fit(one_each, np.arange(3), np.ones(3), 1)
    with pytest.raises(ValueError):
        fit(one_each, np.arange(3), np.zeros(3), 1)


def test_a_refit_is_due_when_the_labels_changed_enough_and_not_too_soon() -> None:
    last = Counts(products=20, attributed=200, confirmed=0)
    assert due(Counts(2, 2, 0), None, None, NOW)  # nothing fitted yet
    assert not due(Counts(1, 50, 0), None, None, NOW)  # one product: nothing to tell apart
    later = NOW + labels.MIN_INTERVAL
    assert not due(Counts(20, 210, 0), last, NOW, later)  # 10 new labels
    assert due(Counts(20, 300, 0), last, NOW, later)  # grew by 100 (> 20% of 220)
    assert due(Counts(20, 150, 50), last, NOW, later)  # QA confirmed 50 of them
    assert not due(Counts(20, 300, 0), last, NOW, NOW + timedelta(seconds=1))  # too soon


def test_a_refit_builds_scores_and_activates_a_new_version(demo_settings: Settings) -> None:
    async def scenario(services: Services) -> None:
        first = await current_for(services)
        assert first.version == 1  # the demo fixture's import fitted one
        # QA confirms a third of the catalog: the labels changed enough
        await services.db.transaction(
            lambda s: s.raw("UPDATE snapshots SET `status` = 'match' WHERE id % 3 = 0")
        )
        later = lambda: datetime.now() + labels.MIN_INTERVAL  # noqa: E731
        assert await refit.refit_if_due(services, clock=later) == 2
        current = await current_for(services)
        assert current.version == 2 and current.model.endswith("+p2")

        def read(session):  # type: ignore[no-untyped-def]
            rows = projections.listing(session, current.raw_model)
            scored = session.raw(
                "SELECT COUNT(*) AS n FROM snapshot_suspicion WHERE `model` = :m",
                {"m": current.model},
            )
            return [(r["version"], r["phase"]) for r in rows], scored[0]["n"]

        phases, scored = await services.db.read(read)
        assert phases == [(2, "active"), (1, "retired")]
        assert scored == 240  # scored in full before it became active
        trained = await services.db.read(lambda s: projections.listing(s, current.raw_model))
        assert '"confirmed": 80' in trained[0]["trained_on"]
        # nothing changed since: no third version
        assert await refit.refit_if_due(services, clock=later) is None

    run(demo_settings, scenario)


def test_a_build_cut_short_is_resumed_and_old_versions_are_deleted(
    demo_settings: Settings,
) -> None:
    async def scenario(services: Services) -> None:
        similarity = similarity_for(services)
        raw = similarity.raw_model
        for version in (2, 3):  # two fits: 2 gets active, 3 is cut short while building
            projection = await services.db.read(lambda s: projections.active(s, raw))
            base = projections.load(services.blobs, projection["blob_key"], projection["digest"])
            fitted = Projection(version, base.mean, base.matrix)
            key, digest = projections.save(services.blobs, fitted)
            await services.db.transaction(
                lambda s, v=version, k=key, d=digest: projections.record(
                    s, raw, v, k, d, {"counts": None}, NOW
                )
            )
            if version == 2:
                assert await refit.build(services, fitted) == 2
        # version 3 was left 'building' (a restart): the next check resumes and activates it
        assert await refit.refit_if_due(services) == 3
        models = await services.db.read(
            lambda s: {
                r["model"] for r in s.raw("SELECT DISTINCT `model` FROM snapshot_embeddings")
            }
        )
        assert models == {raw, f"{raw}+p2", f"{raw}+p3"}  # p1's rows deleted, p2 kept a while

    run(demo_settings, scenario)
