"""Quality floors on real data: what the default recognition reaches, minus a margin.

Measured with the service's own path (active projection, geometric re-rank, vote), leave-one-
out (a snapshot never votes for itself); the README's "Recognition" table has the numbers
and the commands that give them.
- grocery-train (21 look-alike packaged products, 601 store photos, 10% mis-attributed),
  5-fold cross-validated: nothing is scored under a projection fitted on it;
- trax-sample (2 products x 50 real shelf crops), the projection fitted on every label;
- the demo catalog (20 generated products x 12 photos, 5% mis-attributed).
"""

from __future__ import annotations

import io

import pytest

from service.catalog.importer import import_catalog
from service.config import Settings
from service.services import Services
from service.similarity.background.reembed import reembed
from service.similarity.quality import Quality, cross_validate, measure, misattribute
from tests.conftest import SHARED_DATA, make_settings, migrated
from tests.similarity.conftest import run


@pytest.fixture(scope="module")
def grocery(tmp_path_factory: pytest.TempPathFactory) -> Quality:
    root = SHARED_DATA / "grocery-train"
    settings = migrated(make_settings(tmp_path_factory.mktemp("grocery")))

    async def scenario(services: Services) -> Quality:
        report = await import_catalog(services, root)
        assert not report.failures, report.failures
        assert await misattribute(services, 0.1, seed=1) == 60
        await reembed(services, fit=False, out=io.StringIO())
        return await cross_validate(services, 5, seed=1)

    return run(settings, scenario)


def test_grocery_train_cross_validated(grocery: Quality) -> None:
    assert grocery.snapshots == 601 and grocery.misattributed == 60 and grocery.folds == 5
    assert grocery.top1 >= 0.96
    assert grocery.misattributed_top1 is not None and grocery.misattributed_top1 >= 0.94
    assert grocery.suspect_precision is not None and grocery.suspect_precision >= 0.94
    assert grocery.reference_top1 >= 0.93
    assert grocery.p_at_10 >= 0.92
    assert grocery.reference_top1_unseen is not None and grocery.reference_top1_unseen >= 0.75


def test_trax_sample_top_suggestion_and_nearest_reference(trax_settings: Settings) -> None:
    quality = run(trax_settings, measure)
    assert quality.snapshots == 100 and quality.misattributed == 0
    assert quality.model.endswith("+p1")  # the projection fitted on import
    assert quality.top1 >= 0.98
    assert quality.reference_top1 >= 0.98
    assert quality.p_at_10 >= 0.98


def test_demo_catalog_suggestions_and_suspects(demo_settings: Settings) -> None:
    quality = run(demo_settings, measure)
    assert quality.snapshots == 240 and quality.misattributed == 12
    assert quality.top1 >= 0.95
    assert quality.reference_top1 >= 0.9
    assert quality.misattributed_top1 is not None and quality.misattributed_top1 >= 0.9
    assert quality.suspect_precision is not None and quality.suspect_precision >= 0.85
    assert quality.p_at_10 >= 0.65  # 11 other photos per product: 10 of 10 is rarely possible
