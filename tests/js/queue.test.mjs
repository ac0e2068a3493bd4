// Unit tests of static/js/offline-queue.js, the phone's queue of a visit (run by tests/test_offline_js.py
// with `node --test`). The store is a Map standing in for localStorage.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Q = require("../../static/js/offline-queue.js");

function memoryStore() {
  const map = new Map();
  return {
    map,
    get: (k) => (map.has(k) ? map.get(k) : null),
    set: (k, v) => map.set(k, String(v)),
    remove: (k) => map.delete(k),
    keys: () => [...map.keys()],
  };
}

function answer(qid, value, at, clientId = `c-${qid}-${at}`) {
  return { question_id: qid, value, na: false, comment: "", answered_at: at, client_id: clientId };
}

const TEXTS = {
  saved: "Saved", saving: "Saving…", sending: "Sending the visit…",
  offline: "Offline · {what} waiting", waiting: "Not sent yet · {what} waiting",
  answersOne: "1 answer", answersMany: "{n} answers", photosOne: "1 photo", photosMany: "{n} photos",
  both: "{answers} and {photos}",
  submitOffline: "Offline · the visit will be sent when you are online", submitWaiting: "The visit will be sent in a moment",
};

test("a written answer waits until the server confirms that very answer", () => {
  const s = memoryStore();
  Q.record(s, 7, answer(1, true, "2026-05-04T10:00:00.000Z", "a"));
  assert.deepEqual(Q.pendingIds(s, 7), ["1"]);
  Q.record(s, 7, answer(1, false, "2026-05-04T10:00:05.000Z", "b"));  // changed while the first was on its way
  Q.confirm(s, 7, 1, "a");  // the first answer's confirmation does not drop the newer one
  assert.equal(Q.pending(s, 7, 1).value, false);
  Q.confirm(s, 7, 1, "b");
  assert.deepEqual(Q.pendingIds(s, 7), []);
});

test("visits do not share a queue", () => {
  const s = memoryStore();
  Q.record(s, 7, answer(1, true, "2026-05-04T10:00:00.000Z"));
  Q.record(s, 70, answer(2, true, "2026-05-04T10:00:00.000Z"));
  assert.deepEqual(Q.pendingIds(s, 7), ["1"]);
  assert.deepEqual(Q.pendingIds(s, 70), ["2"]);
});

test("a confirmed answer newer than a stored copy of the page is re-applied to it; an older one is not", () => {
  const s = memoryStore();
  Q.record(s, 7, answer(1, "late", "2026-05-04T10:05:00.000Z", "x"));
  Q.record(s, 7, answer(2, "same", "2026-05-04T10:01:00.000Z", "y"));
  Q.record(s, 7, answer(3, "new", "2026-05-04T10:02:00.000Z", "z"));
  ["x", "y", "z"].forEach((id, i) => Q.confirm(s, 7, i + 1, id));
  assert.deepEqual(Q.pendingIds(s, 7), []);
  // the page was made when the server had q1 from 10:00, q2 as written at 10:01, and no q3
  const newer = Q.newerThanPage(s, 7, { 1: "2026-05-04T10:00:00.000Z", 2: "2026-05-04T10:01:00.000Z" });
  assert.deepEqual(Object.keys(newer).sort(), ["1", "3"]);
  assert.equal(newer[1].value, "late");
  // a page newer than everything on the phone gets nothing
  assert.deepEqual(Q.newerThanPage(s, 7, { 1: "2026-05-05T00:00:00.000Z", 2: "2026-05-05T00:00:00.000Z",
                                          3: "2026-05-05T00:00:00.000Z" }), {});
});

test("a queued answer always wins over the page, whatever its time", () => {
  const s = memoryStore();
  Q.record(s, 7, answer(4, 3, "2026-05-04T09:00:00.000Z"));
  assert.equal(Q.newerThanPage(s, 7, { 4: "2026-05-04T12:00:00.000Z" })[4].value, 3);
});

test("an answer the server refused for good leaves both the queue and the phone's record", () => {
  const s = memoryStore();
  Q.record(s, 7, answer(5, "abc", "2026-05-04T10:00:00.000Z", "r"));
  Q.refuse(s, 7, 5, "r");
  assert.deepEqual(Q.pendingIds(s, 7), []);
  assert.deepEqual(Q.newerThanPage(s, 7, {}), {});
});

test("a queued submit goes only after the answers and then the photos, and only online", () => {
  assert.equal(Q.nextStep({ answers: 2, photos: 1, submit: true, online: false }), "wait");
  assert.equal(Q.nextStep({ answers: 2, photos: 1, submit: true, online: true }), "answers");
  assert.equal(Q.nextStep({ answers: 0, photos: 1, submit: true, online: true }), "photos");
  assert.equal(Q.nextStep({ answers: 0, photos: 0, submit: true, online: true }), "submit");
  assert.equal(Q.nextStep({ answers: 0, photos: 0, submit: false, online: true }), "idle");
  assert.equal(Q.nextStep({ answers: 1, photos: 0, submit: false, online: true }), "send");
});

test("the queued submit, its refusal and the submitted visit's cleanup", () => {
  const s = memoryStore();
  Q.record(s, 7, answer(1, true, "2026-05-04T10:00:00.000Z"));
  Q.record(s, 8, answer(1, true, "2026-05-04T10:00:00.000Z"));
  Q.queueSubmit(s, 7);
  assert.equal(Q.submitQueued(s, 7), true);
  assert.equal(Q.submitQueued(s, 8), false);
  Q.setRefused(s, 7, "<ul id=\"missing\"><li>Q2</li></ul>");
  assert.equal(Q.submitQueued(s, 7), false, "a refused submit is not sent again by itself");
  assert.match(Q.refused(s, 7), /Q2/);
  Q.queueSubmit(s, 7);  // tapped again: the old refusal goes
  assert.equal(Q.refused(s, 7), null);
  Q.submitted(s, 7);
  assert.deepEqual(Q.pendingIds(s, 7), []);
  assert.equal(Q.submitQueued(s, 7), false);
  assert.deepEqual(Q.pendingIds(s, 8), ["1"], "another visit's queue stays");
});

test("a damaged entry is dropped, never thrown", () => {
  const s = memoryStore();
  s.set("audit:pending:7:9", "{not json");
  assert.equal(Q.pending(s, 7, 9), null);
  assert.deepEqual(Q.pendingIds(s, 7), []);
});

test("the state bar tells the truth, in the singular and the plural", () => {
  const t = (c) => Q.stateText(c, TEXTS).text;
  assert.equal(t({ answers: 0, photos: 0 }), "Saved");
  assert.equal(t({ answers: 5, photos: 2, offline: true }), "Offline · 5 answers and 2 photos waiting");
  assert.equal(t({ answers: 1, photos: 1, offline: true }), "Offline · 1 answer and 1 photo waiting");
  assert.equal(t({ answers: 0, photos: 3, offline: true }), "Offline · 3 photos waiting");
  assert.equal(t({ answers: 1, photos: 0, offline: true }), "Offline · 1 answer waiting");
  assert.equal(t({ answers: 2, photos: 0, saving: true }), "Saving…");
  assert.equal(t({ answers: 2, photos: 1 }), "Not sent yet · 2 answers and 1 photo waiting");
  assert.equal(t({ answers: 0, photos: 0, submit: true, offline: true }), "Offline · the visit will be sent when you are online");
  assert.equal(t({ answers: 0, photos: 0, submit: true, sending: true }), "Sending the visit…");
  assert.equal(Q.stateText({ answers: 1, offline: true }, TEXTS).cls, "sq-offline");
  assert.equal(Q.stateText({ answers: 0 }, TEXTS).cls, "");
});

test("the kept mark of a visit", () => {
  const s = memoryStore();
  assert.equal(Q.keptAt(s, 7), null);
  Q.markKept(s, 7, "2026-05-04T10:00:00.000Z");
  assert.equal(Q.keptAt(s, 7), "2026-05-04T10:00:00.000Z");
});
