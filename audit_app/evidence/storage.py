"""Where evidence bytes live: one interface, two backends.

``LocalStorage`` (the embedded default) keeps objects as files under a folder;
``S3Storage`` (in ``s3.py``, the only module that imports boto3) keeps them in a bucket.
Keys are relative, slash-separated paths such as ``visits/12/<uuid>/original.jpg``.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from flask import current_app


class ObjectMissing(KeyError):
    """The key names no stored object."""


class StorageUnavailable(RuntimeError):
    """The store could not be reached or refused the operation (network, server down, disk)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime  # naive UTC


def check_key(key: str) -> str:
    """Refuse keys that could escape the store or mean different things on different backends."""
    if not isinstance(key, str) or not key or len(key) > 1024:
        raise ValueError("an object key must be a non-empty string")
    if "\x00" in key or "\\" in key or key.startswith("/") or key.endswith("/"):
        raise ValueError(f"unsafe object key {key!r}")
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"unsafe object key {key!r}")
    return key


class Storage(ABC):
    """Put, get and delete opaque byte objects by key."""

    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The object's bytes; ``ObjectMissing`` when there is none."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; a missing object is fine."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        """Every stored object whose key starts with ``prefix`` (with size and modification time)."""

    def keys(self, prefix: str = "") -> Iterator[str]:
        for obj in self.list(prefix):
            yield obj.key

    def put_file(self, key: str, fh: BinaryIO, content_type: str) -> None:
        """Store the rest of the open binary file ``fh`` (a large export); backends copy it in pieces."""
        self.put(key, fh.read(), content_type)

    def open(self, key: str) -> BinaryIO:
        """The object as a readable binary file, read in pieces by the caller, who closes it;
        ``ObjectMissing`` when there is none."""
        return io.BytesIO(self.get(key))

    def presigned_url(self, key: str, expires: int = 60, filename: str | None = None) -> str | None:
        """A short-lived URL the browser may fetch directly, or None: the caller streams the bytes."""
        return None


TMP_PREFIX = ".tmp-"


class LocalStorage(Storage):
    """Objects as files under ``root``; writes are atomic (temporary file, then rename)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:
            raise ValueError(f"unsafe object key {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.put_file(key, io.BytesIO(data), content_type)

    def put_file(self, key: str, fh: BinaryIO, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(fh, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StorageUnavailable(str(exc)) from exc
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectMissing(key) from exc

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectMissing(key) from exc

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return
        # tidy empty folders up to the root
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        if not self.root.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            for name in sorted(filenames):
                if name.startswith(TMP_PREFIX):
                    continue
                full = Path(dirpath) / name
                key = full.relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    stat = full.stat()
                except FileNotFoundError:
                    continue
                modified = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
                yield StoredObject(key, stat.st_size, modified)


EXTENSION_KEY = "evidence_storage"


def build_storage(config) -> Storage:
    backend = (config.get("STORAGE_BACKEND") or "local").strip().lower()
    if backend == "local":
        return LocalStorage(config["STORAGE_LOCAL_PATH"])
    if backend == "s3":
        from .s3 import S3Storage

        return S3Storage(
            bucket=config["S3_BUCKET"],
            prefix=config.get("S3_PREFIX", ""),
            region=config.get("S3_REGION") or None,
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,
        )
    raise ValueError(f"STORAGE_BACKEND must be 'local' or 's3', got {backend!r}")


def get_storage() -> Storage:
    """The application's storage, built once from its configuration and kept on ``app.extensions``."""
    app = current_app._get_current_object()
    storage = app.extensions.get(EXTENSION_KEY)
    if storage is None:
        storage = build_storage(app.config)
        app.extensions[EXTENSION_KEY] = storage
    return storage
