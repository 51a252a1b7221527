"""S3 adapter: the imports bucket (presigned uploads, ranged reads pinned to an ETag)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.aws_errors import error_code
from app.services.ports.imports import Download, ObjectChanged, ObjectRef, ObjectUnreadable, UploadUrl

CHUNK_BYTES = 64 * 1024


# A missing object, a missing bucket, or one this function may not read: never worth a retry.
_UNREADABLE = frozenset({"NoSuchKey", "NoSuchBucket", "AccessDenied", "404", "403", "InvalidObjectState"})


class S3ImportStore:
    """The imports bucket: presigned uploads, and ranged reads pinned to the object's ETag."""

    def __init__(self, client: Any, bucket: str, clock: Callable[[], datetime]) -> None:
        self.client = client
        self.bucket = bucket
        self.clock = clock

    def upload_url(self, key: str, content_length: int, expires_in: int) -> UploadUrl:
        """A presigned PUT that S3 accepts only as text/csv of exactly `content_length` bytes (both signed)."""
        url = self.client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": "text/csv", "ContentLength": content_length},
            ExpiresIn=expires_in,
        )
        return UploadUrl(url=str(url), expires_at=self.clock() + timedelta(seconds=expires_in))

    def open(self, ref: ObjectRef, offset: int) -> Download:
        """GetObject from `offset` (Range) only while the object still has the import's ETag (If-Match)."""
        args: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key, "IfMatch": f'"{ref.etag.strip(chr(34))}"'}
        if offset:
            args["Range"] = f"bytes={offset}-"
        try:
            response = self.client.get_object(**args)
        except ClientError as exc:
            code = error_code(exc)
            if code in ("PreconditionFailed", "412"):
                raise ObjectChanged(ref.key) from exc
            if code in _UNREADABLE:
                raise ObjectUnreadable(f"{ref.bucket}/{ref.key}: {code}") from exc
            raise
        return Download(str(response.get("ContentType", "")), _chunks(response["Body"]), _total_size(response))


def _total_size(response: dict[str, Any]) -> int:
    """The whole object's size: ContentRange's total for a ranged read, else ContentLength."""
    content_range = str(response.get("ContentRange") or "")
    total = content_range.rpartition("/")[2]
    return int(total) if total.isdigit() else int(response.get("ContentLength", 0))


def _chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()
