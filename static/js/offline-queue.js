/* The phone's queue of a visit, as pure logic over a small key-value store (no DOM, no network):
 * static/js/submissions.js uses it on the page with localStorage, tests/js/queue.test.mjs under
 * Node with a Map. The queue lives in localStorage (answers, the queued submit) and IndexedDB
 * (photos, static/js/evidence.js), never in the service worker's caches, so a new version of the
 * app (a new service worker that deletes its old caches) never drops it.
 *
 * Keys of a visit v:
 *   audit:pending:v:<question id>  an answer written on the phone and not yet confirmed by the server
 *   audit:answer:v:<question id>   the last answer written on the phone (kept after confirmation): a page
 *                                  served from the phone's cache is older than it, and gets it re-applied
 *   audit:submit:v                 Submit was tapped and waits for the network (after answers and photos)
 *   audit:refused:v                what the server said when it refused the queued submit (HTML of its list)
 *   audit:kept:v                   when the whole form was last stored on the phone
 * A store is {get(k), set(k, v), remove(k), keys()} of strings.
 */
(function (global) {
  "use strict";

  function prefix(visitId, kind) { return "audit:" + kind + ":" + visitId + ":"; }
  function key(visitId, kind) { return "audit:" + kind + ":" + visitId; }

  function readJson(store, k) {
    var raw = store.get(k);
    if (raw === null || raw === undefined) return null;
    try { return JSON.parse(raw); } catch (e) { store.remove(k); return null; }
  }

  function idsUnder(store, p) {
    var seen = {};
    store.keys().forEach(function (k) { if (k && k.indexOf(p) === 0) seen[k.slice(p.length)] = true; });
    return Object.keys(seen);
  }

  /** Writes an answer ({question_id, value, na, comment, answered_at, client_id}) to both the queue
   * and the phone's record of the last answers. */
  function record(store, visitId, w) {
    var text = JSON.stringify(w);
    store.set(prefix(visitId, "pending") + w.question_id, text);
    store.set(prefix(visitId, "answer") + w.question_id, text);
  }

  function pending(store, visitId, qid) { return readJson(store, prefix(visitId, "pending") + qid); }
  function pendingIds(store, visitId) { return idsUnder(store, prefix(visitId, "pending")); }

  /** The server has this answer: it leaves the queue (unless a newer one was written meanwhile). */
  function confirm(store, visitId, qid, clientId) {
    var current = pending(store, visitId, qid);
    if (current && current.client_id === clientId) store.remove(prefix(visitId, "pending") + qid);
  }

  /** The server refused this answer for good: it leaves the queue and the phone's record. */
  function refuse(store, visitId, qid, clientId) {
    confirm(store, visitId, qid, clientId);
    var last = readJson(store, prefix(visitId, "answer") + qid);
    if (last && last.client_id === clientId) store.remove(prefix(visitId, "answer") + qid);
  }

  function time(iso) {
    var t = Date.parse(iso || "");
    return isNaN(t) ? null : t;
  }

  /** The answers the page must show over what it was rendered with: every queued answer, and every
   * answer written on the phone later than the one the page holds (serverTimes: {question id:
   * answered_at of the server's answer when the page was rendered}). Both times come from the phone's
   * clock (the server keeps the device's answered_at), so a slow server clock changes nothing. */
  function newerThanPage(store, visitId, serverTimes) {
    var out = {};
    var times = serverTimes || {};
    idsUnder(store, prefix(visitId, "answer")).forEach(function (qid) {
      var w = readJson(store, prefix(visitId, "answer") + qid);
      if (!w) return;
      var mine = time(w.answered_at), theirs = time(times[qid]);
      if (theirs === null || (mine !== null && mine > theirs)) out[qid] = w;
    });
    pendingIds(store, visitId).forEach(function (qid) {
      var w = pending(store, visitId, qid);
      if (w) out[qid] = w;
    });
    return out;
  }

  // --- the queued submit ------------------------------------------------------------------------
  function queueSubmit(store, visitId, at) {
    store.set(key(visitId, "submit"), JSON.stringify({ at: at || new Date().toISOString() }));
    store.remove(key(visitId, "refused"));
  }
  function submitQueued(store, visitId) { return readJson(store, key(visitId, "submit")) !== null; }
  function cancelSubmit(store, visitId) { store.remove(key(visitId, "submit")); }

  function setRefused(store, visitId, html) {
    store.remove(key(visitId, "submit"));
    store.set(key(visitId, "refused"), JSON.stringify({ html: html, at: new Date().toISOString() }));
  }
  function refused(store, visitId) {
    var r = readJson(store, key(visitId, "refused"));
    return r ? r.html : null;
  }

  /** The visit went in: nothing of it is needed on the phone any more (answers, submit, refusal). */
  function submitted(store, visitId) {
    ["pending", "answer"].forEach(function (kind) {
      var p = prefix(visitId, kind);
      idsUnder(store, p).forEach(function (id) { store.remove(p + id); });
    });
    store.remove(key(visitId, "submit"));
    store.remove(key(visitId, "refused"));
  }

  function markKept(store, visitId, at) { store.set(key(visitId, "kept"), at || new Date().toISOString()); }
  function keptAt(store, visitId) { return store.get(key(visitId, "kept")); }

  /** What to do next with a queued submit, in the only safe order: answers, then photos, then the
   * submit itself. state: {answers, photos (counts waiting), submit (queued?), online} */
  function nextStep(state) {
    if (!state.submit) return state.answers || state.photos ? (state.online ? "send" : "wait") : "idle";
    if (!state.online) return "wait";
    if (state.answers) return "answers";
    if (state.photos) return "photos";
    return "submit";
  }

  // --- the state bar ------------------------------------------------------------------------------
  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (m, name) {
      return values.hasOwnProperty(name) ? String(values[name]) : m;
    });
  }

  /** The bar's text and class. counts: {answers, photos, offline, saving, submit, sending};
   * texts: the page's translated templates (one and many forms: English and Finnish both say
   * "1" in the singular and any other number in the plural). */
  function stateText(counts, texts) {
    var parts = [];
    if (counts.answers) parts.push(counts.answers === 1 ? texts.answersOne : fill(texts.answersMany, { n: counts.answers }));
    if (counts.photos) parts.push(counts.photos === 1 ? texts.photosOne : fill(texts.photosMany, { n: counts.photos }));
    var what = parts.length === 2 ? fill(texts.both, { answers: parts[0], photos: parts[1] }) : parts[0];
    if (counts.sending) return { text: texts.sending, cls: "" };
    if (!what) {
      if (counts.submit) return { text: counts.offline ? texts.submitOffline : texts.submitWaiting, cls: "sq-offline" };
      return { text: texts.saved, cls: "" };
    }
    if (counts.offline) return { text: fill(texts.offline, { what: what }), cls: "sq-offline" };
    if (counts.saving) return { text: texts.saving, cls: "" };
    return { text: fill(texts.waiting, { what: what }), cls: "sq-offline" };
  }

  var api = {
    record: record, pending: pending, pendingIds: pendingIds, confirm: confirm, refuse: refuse,
    newerThanPage: newerThanPage, queueSubmit: queueSubmit, submitQueued: submitQueued,
    cancelSubmit: cancelSubmit, setRefused: setRefused, refused: refused, submitted: submitted,
    markKept: markKept, keptAt: keptAt, nextStep: nextStep, stateText: stateText, fill: fill
  };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else global.OfflineQueue = api;
})(typeof window !== "undefined" ? window : globalThis);
