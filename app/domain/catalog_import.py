"""Bulk catalog imports: the CSV columns, row validation and the import's progress."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.domain.errors import ValidationError
from app.domain.money import check_currency, check_price
from app.domain.products import RESTOCK_MAX, normalise_product_name

COLUMNS = ("productId", "name", "price", "currency", "stock")
HEADER = ",".join(COLUMNS)
ERRORS_KEPT = 100
_PRODUCT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# ASCII digits only, and few enough that int() never meets its 4,300-digit guard.
_WHOLE = re.compile(r"^[0-9]{1,30}$")
_IMPORT_KEY = re.compile(r"^imports/([a-f0-9]{32})\.csv$")


class ImportStatus(StrEnum):
    """PENDING until the upload arrives, RUNNING while rows are read, then COMPLETED or FAILED."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class RowError:
    """Why one line of the file was rejected."""

    line: int
    reason: str


@dataclass(frozen=True)
class ImportRow:
    """One valid product row."""

    line: int
    product_id: str
    name: str
    price: int
    currency: str
    stock: int


@dataclass(frozen=True)
class ImportProgress:
    """How far an import got: the checkpoint (byte offset, physical lines) and the counters."""

    offset: int = 0
    line: int = 0
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    errors_kept: int = 0
    columns: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CatalogImport:
    """An import as stored and reported."""

    id: str
    status: ImportStatus
    object_key: str
    created_at: datetime
    updated_at: datetime
    etag: str | None = None
    progress: ImportProgress = field(default_factory=ImportProgress)
    errors: list[RowError] = field(default_factory=list)
    reason: str | None = None
    completed_at: datetime | None = None
    declared_bytes: int | None = None


STALLED = "stalled"


def object_key(import_id: str) -> str:
    """The S3 key an import's file is uploaded to."""
    return f"imports/{import_id}.csv"


def import_id_of(key: str) -> str | None:
    """The import id in an object key, or None for a key that is not an import's."""
    match = _IMPORT_KEY.fullmatch(key)
    return match.group(1) if match else None


def header_columns(fields: list[str]) -> tuple[str, ...] | None:
    """The column order a header declares, or None when it does not name exactly the five columns."""
    by_lower = {c.lower(): c for c in COLUMNS}
    named = [by_lower.get(f.strip().lower()) for f in fields]
    if None in named or len(set(named)) != len(COLUMNS) or len(named) != len(COLUMNS):
        return None
    return tuple(c for c in named if c is not None)


def parse_row(line: int, fields: list[str], columns: tuple[str, ...] = COLUMNS) -> ImportRow:
    """Validate one row; ValidationError lists every bad field."""
    if len(fields) != len(COLUMNS):
        raise ValidationError(f"expected {len(COLUMNS)} columns ({HEADER}), got {len(fields)}")
    values = dict(zip(columns, (f.strip() for f in fields), strict=True))
    problems: list[str] = []
    product_id = values["productId"]
    if not _PRODUCT_ID.fullmatch(product_id):
        problems.append("productId must be 1-64 letters, digits, '_' or '-' (starting with a letter or digit)")
    name = _checked(problems, lambda: normalise_product_name(values["name"]))
    price = _whole(problems, "price", values["price"], "a whole number of minor units, e.g. 1250 for 12.50")
    if price is not None:
        _checked(problems, lambda: check_price(price))
    currency = _checked(problems, lambda: check_currency(values["currency"]))
    stock = _whole(problems, "stock", values["stock"], f"a whole number from 0 to {RESTOCK_MAX}")
    if stock is not None and stock > RESTOCK_MAX:
        problems.append(f"stock must be a whole number from 0 to {RESTOCK_MAX}, got {stock}")
    if problems:
        raise ValidationError("; ".join(problems))
    assert price is not None  # every None above added a problem
    assert stock is not None
    return ImportRow(line, product_id, name or "", price, currency or "", stock)


def _whole(problems: list[str], column: str, text: str, expected: str) -> int | None:
    if _WHOLE.fullmatch(text):
        return int(text)
    problems.append(f"{column} must be {expected}, got {text!r}")
    return None


def _checked[T](problems: list[str], check: Callable[[], T]) -> T | None:
    try:
        return check()
    except ValidationError as exc:
        problems.append("; ".join(f"{e['field']} {e['message']}" for e in exc.errors) or exc.detail)
        return None
