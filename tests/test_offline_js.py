"""The JavaScript unit tests (tests/js/*.test.mjs) under Node's built-in test runner.

Skipped with a reason where ``node`` is missing, and failing in CI (``CI=true``), where it must exist."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.factories import encode

ROOT = Path(__file__).resolve().parent.parent
JS_TESTS = sorted((ROOT / "tests" / "js").glob("*.test.mjs"))


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is needed in CI for the JavaScript unit tests")
        pytest.skip("node is not installed here: the JavaScript unit tests run in CI")
    return node


@pytest.mark.parametrize("path", JS_TESTS, ids=[p.name for p in JS_TESTS])
def test_javascript_unit_tests(path, tmp_path):
    node = _node()
    exif = Image.Exif()
    exif.get_ifd(0x8769).update({36867: "2026:05:04 14:30:00", 36881: "+03:00"})
    fixture = tmp_path / "captured.jpg"
    fixture.write_bytes(encode(Image.new("RGB", (32, 24), (1, 2, 3)), "JPEG", exif=exif))
    env = {**os.environ, "CAPTURE_FIXTURE": str(fixture), "TZ": "Europe/Helsinki"}
    result = subprocess.run([node, "--test", str(path)], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout and "# skipped 0" in result.stdout, result.stdout
