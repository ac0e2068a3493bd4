"""The S3 backend (AWS S3 or any S3-compatible store). The only module that imports boto3.

Credentials come from boto3's usual chain (environment, shared files, instance roles).
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .storage import ObjectMissing, Storage, StorageUnavailable, StoredObject, check_key

_MISSING = {"404", "NoSuchKey", "NotFound"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Storage(Storage):
    def __init__(self, bucket: str, prefix: str = "", region: str | None = None, endpoint_url: str | None = None):
        if not bucket:
            raise ValueError("S3_BUCKET must be set when STORAGE_BACKEND is s3")
        self.bucket = bucket
        prefix = (prefix or "").strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self.client = boto3.client(
            "s3",
            region_name=region or None,
            endpoint_url=endpoint_url or None,
            config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=30),
        )

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(str(exc)) from exc

    def put_file(self, key: str, fh, content_type: str) -> None:
        try:  # a multipart upload in pieces for a large file
            self.client.upload_fileobj(fh, self.bucket, self._key(key), ExtraArgs={"ContentType": content_type})
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(str(exc)) from exc

    def open(self, key: str):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise ObjectMissing(key) from exc
            raise StorageUnavailable(str(exc)) from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return response["Body"].read()
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise ObjectMissing(key) from exc
            raise StorageUnavailable(str(exc)) from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _code(exc) not in _MISSING:
                raise StorageUnavailable(str(exc)) from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise StorageUnavailable(str(exc)) from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(str(exc)) from exc
        return True

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for item in page.get("Contents", ()):
                key = item["Key"][len(self.prefix):]
                modified = item["LastModified"]
                if modified.tzinfo is not None:
                    from datetime import UTC

                    modified = modified.astimezone(UTC).replace(tzinfo=None)
                yield StoredObject(key, int(item.get("Size", 0)), modified)

    def presigned_url(self, key: str, expires: int = 60, filename: str | None = None) -> str | None:
        params = {"Bucket": self.bucket, "Key": self._key(key), "ResponseCacheControl": "private, max-age=60"}
        if filename:
            safe = "".join(c for c in filename if c.isalnum() or c in "._-") or "photo"
            params["ResponseContentDisposition"] = f'inline; filename="{safe}"'
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=int(expires))
