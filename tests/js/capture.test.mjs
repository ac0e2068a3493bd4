// Unit tests of static/js/offline-capture.js (run by tests/test_offline_js.py with `node --test`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const capture = require("../../static/js/offline-capture.js");

function toArrayBuffer(buf) {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

// A JPEG written by Pillow with DateTimeOriginal 2026:05:04 14:30:00 and OffsetTimeOriginal +03:00,
// made by tests/test_offline_js.py into a temporary file named by CAPTURE_FIXTURE.
test("DateTimeOriginal and its offset are read from a real JPEG", { skip: !process.env.CAPTURE_FIXTURE }, () => {
  const found = capture.parseExif(toArrayBuffer(readFileSync(process.env.CAPTURE_FIXTURE)));
  assert.deepEqual(found, { stamp: "2026:05:04 14:30:00", offset: "+03:00" });
  assert.equal(capture.toIso(found), "2026-05-04T14:30:00+03:00");
});

test("a file without EXIF, or not a JPEG, has no capture time", () => {
  assert.equal(capture.parseExif(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2]).buffer), null);
  assert.equal(capture.parseExif(new TextEncoder().encode("hello world").buffer), null);
  assert.equal(capture.parseExif(new ArrayBuffer(0)), null);
});

test("a truncated EXIF block never throws", () => {
  const bytes = new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x40, 0x45, 0x78, 0x69, 0x66, 0, 0, 0x49, 0x49, 0x2a, 0]);
  assert.equal(capture.parseExif(bytes.buffer), null);
});

test("without an offset the phone's zone is used", () => {
  const iso = capture.toIso({ stamp: "2026:01:10 12:00:00", offset: null });
  assert.equal(new Date(iso).getTime(), new Date(2026, 0, 10, 12, 0, 0).getTime());
  assert.match(iso, /Z$/);
});

test("a bad stamp or offset is not trusted", () => {
  assert.equal(capture.toIso({ stamp: "yesterday", offset: "+02:00" }), null);
  assert.equal(capture.toIso(null), null);
  assert.match(capture.toIso({ stamp: "2026:01:10 12:00:00", offset: "bogus" }), /Z$/);
});
