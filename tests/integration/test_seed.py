from __future__ import annotations

from datetime import UTC, datetime

from app.bootstrap import Container
from app.settings import get_settings
from infra.local.seed import DEMO_CATALOG, seed_catalog
from infra.local.template import Stack


def test_demo_catalog_is_seeded_once(stack: Stack) -> None:
    assert seed_catalog(stack) == [p[0] for p in DEMO_CATALOG]
    products = Container(get_settings()).product_repo
    products.restock("coffee-mug", 5, datetime.now(UTC))
    seed_catalog(stack)  # a second run keeps what is there
    mug = products.get("coffee-mug")
    assert mug is not None
    assert (mug.price.amount, mug.available, mug.added) == (1250, 105, 105)
    assert len(products.page(10, None).items) == len(DEMO_CATALOG)
