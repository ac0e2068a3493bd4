"""The same behavioural tests on both storage backends: local disk (tmp_path) and S3 (moto's
server mode over HTTP on 127.0.0.1)."""

from __future__ import annotations

import urllib.request
import uuid

import pytest

from audit_app.evidence.storage import LocalStorage, ObjectMissing, Storage
from tests.conftest import make_s3_storage


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    return make_s3_storage(request.getfixturevalue("s3_endpoint"))


def test_put_then_get_returns_the_bytes(storage):
    storage.put("visits/1/a/original.jpg", b"\xff\xd8hello", "image/jpeg")
    assert storage.get("visits/1/a/original.jpg") == b"\xff\xd8hello"
    assert storage.exists("visits/1/a/original.jpg")


def test_put_replaces_an_object(storage):
    storage.put("k/one", b"first", "text/plain")
    storage.put("k/one", b"second", "text/plain")
    assert storage.get("k/one") == b"second"
    assert list(storage.keys()) == ["k/one"]


def test_missing_object_raises_object_missing_which_is_a_key_error(storage):
    with pytest.raises(ObjectMissing):
        storage.get("visits/404/none.jpg")
    with pytest.raises(KeyError):
        storage.get("visits/404/none.jpg")
    assert not storage.exists("visits/404/none.jpg")


def test_delete_removes_and_missing_is_fine(storage):
    storage.put("visits/2/b/thumb.jpg", b"x", "image/jpeg")
    storage.delete("visits/2/b/thumb.jpg")
    assert not storage.exists("visits/2/b/thumb.jpg")
    storage.delete("visits/2/b/thumb.jpg")  # again: no error
    storage.delete("never/was/there")
    assert list(storage.keys()) == []


def test_keys_lists_by_prefix(storage):
    for key in ("visits/1/a/original.jpg", "visits/1/a/thumb.jpg", "visits/2/c/original.png", "reports/1.pdf"):
        storage.put(key, b"data", "application/octet-stream")
    assert sorted(storage.keys("visits/1/")) == ["visits/1/a/original.jpg", "visits/1/a/thumb.jpg"]
    assert sorted(storage.keys("visits/")) == [
        "visits/1/a/original.jpg", "visits/1/a/thumb.jpg", "visits/2/c/original.png"
    ]
    assert len(list(storage.keys())) == 4
    listed = {obj.key: obj for obj in storage.list("reports/")}
    assert listed["reports/1.pdf"].size == 4
    assert listed["reports/1.pdf"].modified.tzinfo is None


def test_binary_data_round_trips_exactly(storage):
    data = bytes(range(256)) * 1000
    storage.put("bin/blob", data, "application/octet-stream")
    assert storage.get("bin/blob") == data


BAD_KEYS = ["../escape", "a/../../etc/passwd", "/absolute/key", "back\\slash", "nul\x00byte", "", "a//b", "a/./b",
            "trailing/"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_keys_are_refused(storage, key):
    with pytest.raises(ValueError):
        storage.put(key, b"x", "text/plain")
    with pytest.raises(ValueError):
        storage.get(key)
    with pytest.raises(ValueError):
        storage.delete(key)


def test_local_storage_writes_inside_its_root_only(tmp_path):
    storage = LocalStorage(tmp_path / "root")
    with pytest.raises(ValueError):
        storage.put("../outside.txt", b"x", "text/plain")
    assert not (tmp_path / "outside.txt").exists()
    storage.put("visits/1/u/original.jpg", b"x", "image/jpeg")
    assert (tmp_path / "root" / "visits" / "1" / "u" / "original.jpg").read_bytes() == b"x"
    # no temporary files left behind, and empty folders are tidied on delete
    assert [p.name for p in (tmp_path / "root" / "visits" / "1" / "u").iterdir()] == ["original.jpg"]
    storage.delete("visits/1/u/original.jpg")
    assert not (tmp_path / "root" / "visits").exists()


def test_local_storage_serves_no_presigned_url(tmp_path):
    assert LocalStorage(tmp_path).presigned_url("visits/1/a.jpg") is None


def test_s3_presigned_url_fetches_the_object_over_http(s3_endpoint):
    storage = make_s3_storage(s3_endpoint)
    storage.put("visits/1/a/thumb.jpg", b"jpeg-bytes", "image/jpeg")
    url = storage.presigned_url("visits/1/a/thumb.jpg", expires=60, filename="photo.jpg")
    assert url.startswith(s3_endpoint + "/") and "X-Amz-Expires=60" in url
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"jpeg-bytes"
        assert response.headers["Content-Type"] == "image/jpeg"


def test_s3_prefixes_keep_stores_apart(s3_endpoint):
    bucket = f"shared-{uuid.uuid4().hex[:12]}"
    one = make_s3_storage(s3_endpoint, prefix="one", bucket=bucket)
    two = make_s3_storage(s3_endpoint, prefix="two/", bucket=bucket)
    one.put("visits/1/x.jpg", b"1", "image/jpeg")
    two.put("visits/1/x.jpg", b"2", "image/jpeg")
    assert one.get("visits/1/x.jpg") == b"1" and two.get("visits/1/x.jpg") == b"2"
    assert list(one.keys()) == ["visits/1/x.jpg"]
    head = one.client.head_object(Bucket=bucket, Key="one/visits/1/x.jpg")
    assert head["ContentType"] == "image/jpeg"


def test_get_storage_builds_from_configuration(app, s3_endpoint):
    from audit_app.evidence.s3 import S3Storage
    from audit_app.evidence.storage import EXTENSION_KEY, build_storage, get_storage

    with app.app_context():
        assert isinstance(get_storage(), LocalStorage)
        assert get_storage() is app.extensions[EXTENSION_KEY]
    config = {"STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "S3_PREFIX": "p", "S3_REGION": "eu-north-1",
              "S3_ENDPOINT_URL": s3_endpoint}
    built = build_storage(config)
    assert isinstance(built, S3Storage) and built.prefix == "p/" and built.bucket == "b"
    with pytest.raises(ValueError):
        build_storage({"STORAGE_BACKEND": "ftp"})
    with pytest.raises(ValueError):
        build_storage({**config, "S3_BUCKET": ""})


def test_boto3_is_imported_in_one_module_only():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "audit_app"
    importers = sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*.py")
        if "import boto3" in p.read_text(encoding="utf-8") or "from boto3" in p.read_text(encoding="utf-8")
    )
    assert importers == ["evidence/s3.py"]
