/* The evaluator's form: every answer is saved at once and never lost.
 *
 * Each change is written first to localStorage ("pending", keyed by visit and question) and
 * then sent to the server; it leaves localStorage only when the server confirms it. On load,
 * pending answers override what the server rendered and are sent again; they are retried when
 * the network returns and periodically. The server keeps the answer with the latest
 * answered_at, so a re-sent or late write is harmless. No framework, no CDN.
 *
 * Offline (static/js/offline-queue.js holds the queue's logic, static/js/offline-sw.js the service
 * worker): the phone also keeps the last answer written to each question, so a copy of this page
 * served from the phone's cache (older than those answers) gets them re-applied. Submit with no
 * network, or with answers or photos still waiting, is queued: it is sent when the network returns,
 * after the answers and then the photos. A refusal (something missing) is kept and shown each time
 * the form is opened until the next submit; a session that ended meanwhile asks to sign in again,
 * and nothing queued leaves the phone before the server has it.
 */
(function () {
  "use strict";

  var root = document.getElementById("sq-form");
  if (!root || root.dataset.readOnly === "true" || !window.OfflineQueue) return;
  var Q = window.OfflineQueue;

  var visitId = root.dataset.visitId;
  var saveUrl = root.dataset.saveUrl;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : "";
  var SW_PREFIX = "audit:stopwatch:" + visitId + ":";
  var RETRY_MS = 8000;
  var TEXT_DEBOUNCE_MS = 600;
  var stateEl = document.getElementById("sq-state");
  var inFlight = {};       // question id -> client_id of the answer being sent
  var inFlightPromise = {}; // question id -> the promise of that request
  var timers = {};
  var networkDown = false;
  var signedOut = false;
  var photosWaiting = 0;
  var submitting = false;

  // --- storage (localStorage, or memory when the browser refuses it) -------------------------
  var memory = {};
  var store = {
    get: function (k) {
      try { return window.localStorage.getItem(k); } catch (e) { return memory.hasOwnProperty(k) ? memory[k] : null; }
    },
    set: function (k, v) {
      try { window.localStorage.setItem(k, v); } catch (e) { memory[k] = v; }
    },
    remove: function (k) {
      try { window.localStorage.removeItem(k); } catch (e) { /* memory only */ }
      delete memory[k];
    },
    keys: function () {
      var out = Object.keys(memory);
      try {
        for (var i = 0; i < window.localStorage.length; i++) out.push(window.localStorage.key(i));
      } catch (e) { /* memory only */ }
      return out;
    }
  };

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0;
      return (c === "x" ? r : (r & 0x3 | 0x8)).toString(16);
    });
  }

  function readPending(qid) { return Q.pending(store, visitId, qid); }
  function writePending(w) { Q.record(store, visitId, w); }
  function pendingIds() { return Q.pendingIds(store, visitId); }

  // --- reading and writing the inputs of one question ----------------------------------------
  function box(qid) { return root.querySelector('.sq-question[data-question-id="' + qid + '"]'); }
  // field names shared with templates/checklists/_question_input.html:
  // q-<id> (the answer), q-<id>-na (N/A), q-<id>-comment
  function field(b, suffix) { return 'q-' + b.dataset.questionId + (suffix || ''); }
  function valueInputs(b) { return b.querySelectorAll('[name="' + field(b) + '"]'); }
  function naInput(b) { return b.querySelector('[name="' + field(b, '-na') + '"]'); }
  function commentInput(b) { return b.querySelector('[name="' + field(b, '-comment') + '"]'); }

  function convert(kind, raw) {
    if (raw === null || raw === undefined) return null;
    var s = String(raw);
    if (kind === "yes_no") {
      if (s === "yes" || s === "true") return true;
      if (s === "no" || s === "false") return false;
      return s === "" ? null : s;
    }
    if (kind === "scale") {
      if (s.trim() === "") return null;
      var n = Number(s);
      return isNaN(n) ? s : n;
    }
    if (kind === "number") {
      var t = s.trim().replace(",", ".");
      if (t === "") return null;
      var f = Number(t);
      return isNaN(f) ? s : f;
    }
    return s === "" ? null : s;
  }

  function readValue(b) {
    var kind = b.dataset.kind;
    var inputs = valueInputs(b);
    var value = null;
    if (kind === "multi") {  // the ticked options, in the form's order; none ticked: no answer
      var chosen = [];
      for (var j = 0; j < inputs.length; j++) if (inputs[j].checked) chosen.push(inputs[j].value);
      return chosen.length ? chosen : null;
    }
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) { value = convert(kind, el.value); break; }
      } else {
        value = convert(kind, el.value);
        break;
      }
    }
    return value;
  }

  function state(b) {
    var na = naInput(b);
    var comment = commentInput(b);
    var isNa = !!(na && na.checked);
    return {
      question_id: parseInt(b.dataset.questionId, 10),
      value: isNa ? null : readValue(b),
      na: isNa,
      comment: comment ? comment.value : ""
    };
  }

  function apply(b, w) {
    var kind = b.dataset.kind;
    var inputs = valueInputs(b);
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (kind === "multi") {
        el.checked = !w.na && Array.isArray(w.value) && w.value.indexOf(el.value) >= 0;
      } else if (el.type === "radio" || el.type === "checkbox") {
        el.checked = !w.na && w.value !== null && convert(kind, el.value) === w.value;
      } else {
        el.value = (w.na || w.value === null || w.value === undefined) ? "" : String(w.value);
      }
    }
    var na = naInput(b);
    if (na) na.checked = !!w.na;
    var comment = commentInput(b);
    if (comment) {
      comment.value = w.comment || "";
      if (w.comment) {
        var details = comment.closest("details");
        if (details) details.open = true;
      }
    }
    b.classList.toggle("sq-na", !!w.na);
  }

  function showError(b, message) {
    if (!b) return;
    var el = b.querySelector('[data-role="error"]');
    b.classList.toggle("sq-invalid", !!message);
    if (!el) return;
    el.textContent = message || "";
    el.hidden = !message;
  }

  // --- the save state in the bottom bar ------------------------------------------------------
  var texts = {
    saved: root.dataset.textSaved, saving: root.dataset.textSaving, sending: root.dataset.textSending,
    offline: root.dataset.textOffline, waiting: root.dataset.textWaiting,
    answersOne: root.dataset.textAnswersOne, answersMany: root.dataset.textAnswersMany,
    photosOne: root.dataset.textPhotosOne, photosMany: root.dataset.textPhotosMany, both: root.dataset.textBoth,
    submitOffline: root.dataset.textSubmitOffline, submitWaiting: root.dataset.textSubmitWaiting
  };

  function isOffline() { return networkDown || navigator.onLine === false; }

  function updateState() {
    var n = pendingIds().length;
    var queued = Q.submitQueued(store, visitId);
    root.dataset.pending = String(n);
    root.dataset.photosWaiting = String(photosWaiting);
    root.dataset.submitQueued = queued ? "true" : "false";
    var note = document.getElementById("sq-submit-queued");
    if (note) note.hidden = !queued;
    if (!stateEl) return;
    var s = Q.stateText({ answers: n, photos: photosWaiting, offline: isOffline(), submit: queued,
                          saving: Object.keys(inFlight).length > 0, sending: submitting }, texts);
    stateEl.textContent = s.text;
    stateEl.className = "sq-state " + s.cls;
  }

  function countPhotos() {
    if (!window.EvidenceQueue || !root.dataset.photosUrl) return Promise.resolve();
    return window.EvidenceQueue.count(root.dataset.photosUrl).then(function (n) { photosWaiting = n; updateState(); });
  }

  // --- signed out while offline: sign in again, then everything is sent --------------------------
  function showSignIn() {
    signedOut = true;
    var box = document.getElementById("sq-signed-out");
    if (box) box.hidden = false;
  }

  // --- sending ---------------------------------------------------------------------------------
  function send(w) {
    if (!w) return Promise.resolve();
    var qid = String(w.question_id);
    // the same answer already on its way: wait for that request instead of returning at once,
    // so that flush() (and submit after it) waits until the server has confirmed it
    if (inFlight[qid] === w.client_id && inFlightPromise[qid]) return inFlightPromise[qid];
    inFlight[qid] = w.client_id;
    updateState();
    var request = fetch(saveUrl, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      keepalive: true,
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(w)
    }).then(function (response) {
      if (response.type === "opaqueredirect") return { status: 0, body: null };
      return response.json().catch(function () { return null; }).then(function (body) {
        return { status: response.status, body: body };
      });
    }).then(function (result) {
      if (inFlight[qid] === w.client_id) delete inFlight[qid];
      networkDown = false;
      var body = result.body;
      if (result.status === 200 && body && body.ok) {
        Q.confirm(store, visitId, qid, w.client_id);
      } else if (body && (body.code === "invalid" || body.code === "locked" || body.code === "bad_request")) {
        // the server refused this answer for good: say why; retrying would not help
        Q.refuse(store, visitId, qid, w.client_id);
        showError(box(qid), body.error);
      } else if (result.status === 0 || result.status === 401) {
        showSignIn();  // the sign-in page's redirect: the session ended; the answer stays queued
      }
      // anything else (signed out, a server error): keep it and retry later
      updateState();
    }, function () {
      if (inFlight[qid] === w.client_id) delete inFlight[qid];
      networkDown = true;
      updateState();
    }).then(function () {
      if (inFlightPromise[qid] === request) delete inFlightPromise[qid];
    });
    inFlightPromise[qid] = request;
    return request;
  }

  function flush() {
    var ids = pendingIds();
    return Promise.all(ids.map(function (qid) {
      if (timers[qid]) { clearTimeout(timers[qid]); delete timers[qid]; }
      return send(readPending(qid));
    })).then(updateState);
  }

  // the last answer written for each question (value, N/A, comment): a text field's "change" on
  // blur repeats what its "input" events already saved, and is skipped
  var lastWritten = {};
  function fingerprint(w) { return JSON.stringify([w.value, w.na, w.comment]); }

  function changed(b, debounce) {
    var w = state(b);
    lastWritten[String(w.question_id)] = fingerprint(w);
    w.answered_at = new Date().toISOString();
    w.client_id = uuid();
    writePending(w);
    // the form logic (static/js/form-logic-page.js) shows and hides questions by the answers
    root.dispatchEvent(new CustomEvent("sq:answer"));
    b.classList.toggle("sq-na", w.na);
    showError(b, "");
    var qid = String(w.question_id);
    if (timers[qid]) { clearTimeout(timers[qid]); delete timers[qid]; }
    if (debounce) {
      updateState();
      timers[qid] = setTimeout(function () { delete timers[qid]; send(readPending(qid)); }, TEXT_DEBOUNCE_MS);
    } else {
      send(w);
    }
  }

  // --- events ----------------------------------------------------------------------------------
  // what an input is: "value", "na", "comment" or null (photos and anything else are not answers)
  function roleOf(el) {
    var m = el && el.name ? /^q-(\d+)(-na|-comment)?$/.exec(el.name) : null;
    if (!m) return null;
    return m[2] === "-na" ? "na" : (m[2] === "-comment" ? "comment" : "value");
  }

  root.addEventListener("change", function (event) {
    var el = event.target;
    var role = roleOf(el);
    var b = role && el.closest(".sq-question");
    if (!b) return;
    if (el.type !== "radio" && el.type !== "checkbox" && lastWritten[b.dataset.questionId] === fingerprint(state(b))) {
      return;  // already written by the input events
    }
    if (role === "na" && el.checked) {
      var inputs = valueInputs(b);
      for (var i = 0; i < inputs.length; i++) {
        if (inputs[i].type === "radio" || inputs[i].type === "checkbox") inputs[i].checked = false;
        else inputs[i].value = "";
      }
    } else if (role === "value") {
      var na = naInput(b);
      if (na && (el.type === "radio" || el.value !== "")) na.checked = false;
    }
    changed(b, false);
  });

  root.addEventListener("input", function (event) {
    var el = event.target;
    var role = roleOf(el);
    if (!role || el.type === "radio" || el.type === "checkbox") return;
    var b = el.closest(".sq-question");
    if (!b) return;
    if (role === "value" && el.value !== "") {
      var na = naInput(b);
      if (na) na.checked = false;
    }
    changed(b, true);
  });

  // --- stopwatch: the start time lives in localStorage, so it survives a reload -------------------
  var UNIT_MS = { seconds: 1000, minutes: 60000, hours: 3600000 };
  var UNIT_DECIMALS = { seconds: 0, minutes: 1, hours: 2 };

  function clock(ms) {
    var s = Math.floor(ms / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m));
    return (h ? h + ":" : "") + mm + ":" + String(sec).padStart(2, "0");
  }

  // a [data-stopwatch] button (data-target: the number field's name, data-unit) starts and stops
  function setupStopwatch(button) {
    var b = button.closest(".sq-question");
    if (!b) return;
    var key = SW_PREFIX + b.dataset.questionId;
    var idleLabel = button.textContent;
    var timeEl = document.createElement("span");
    timeEl.className = "sq-sw-time d-block text-center mt-1";
    timeEl.setAttribute("aria-live", "polite");
    button.insertAdjacentElement("afterend", timeEl);
    var ticker = null;

    function render() {
      var started = Number(store.get(key));
      if (!started) {
        button.textContent = idleLabel;
        button.setAttribute("aria-pressed", "false");
        if (ticker) { clearInterval(ticker); ticker = null; }
        return;
      }
      button.textContent = root.dataset.textStop + " · " + clock(Date.now() - started);
      button.setAttribute("aria-pressed", "true");
      timeEl.textContent = "";
      if (!ticker) ticker = setInterval(render, 1000);
    }

    button.addEventListener("click", function () {
      var started = Number(store.get(key));
      if (!started) {
        store.set(key, String(Date.now()));
        render();
        return;
      }
      store.remove(key);
      render();
      var unit = UNIT_MS.hasOwnProperty(button.dataset.unit) ? button.dataset.unit : "minutes";
      var ms = Date.now() - started;
      var factor = Math.pow(10, UNIT_DECIMALS[unit]);
      var value = Math.round(ms / UNIT_MS[unit] * factor) / factor;
      var input = b.querySelector('[name="' + (button.dataset.target || field(b)) + '"]');
      if (input) input.value = String(value);
      timeEl.textContent = clock(ms);
      var na = naInput(b);
      if (na) na.checked = false;
      changed(b, false);
    });
    render();
  }

  Array.prototype.forEach.call(root.querySelectorAll("[data-stopwatch]"), setupStopwatch);

  // --- submit: at once when nothing waits and the network is there, otherwise queued ---------------
  var submitForm = document.getElementById("sq-submit-form");

  function showRefused() {
    var html = Q.refused(store, visitId);
    var boxEl = document.getElementById("sq-refused");
    if (!boxEl) return;
    var body = boxEl.querySelector("[data-role=refused-body]");
    if (html && body) {
      // the server's own refusal page (its list of what is missing), kept on the phone
      var doc = new DOMParser().parseFromString(html, "text/html");
      body.replaceChildren.apply(body, Array.prototype.map.call(doc.body.childNodes, function (n) {
        return document.importNode(n, true);
      }));
    }
    boxEl.hidden = !html;
  }

  // a fresh CSRF token (the page may be an old copy from the phone's cache) and whether the session lives
  function refreshToken() {
    return fetch(window.location.href, { credentials: "same-origin", cache: "no-store",
                                         headers: { "Accept": "text/html" } }).then(function (response) {
      var path = new URL(response.url).pathname;
      if (response.redirected && path !== window.location.pathname) { showSignIn(); return false; }
      if (!response.ok) return false;
      return response.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector('meta[name="csrf-token"]');
        if (!fresh) return false;
        csrf = fresh.content;
        if (meta) meta.content = csrf;
        Array.prototype.forEach.call(document.querySelectorAll('input[name="csrf_token"]'), function (input) {
          input.value = csrf;
        });
        signedOut = false;
        var boxEl = document.getElementById("sq-signed-out");
        if (boxEl) boxEl.hidden = true;
        return true;
      });
    }, function () { networkDown = true; return false; });
  }

  /** A queued submit goes when the network is there: answers first, then photos, then the submit. */
  function sendQueuedSubmit() {
    if (submitting || !Q.submitQueued(store, visitId) || navigator.onLine === false) return Promise.resolve();
    submitting = true;
    updateState();
    function stop() { submitting = false; updateState(); }
    return refreshToken().then(function (ok) {
      if (!ok) return stop();
      return flush().then(function () {
        if (pendingIds().length) return stop();
        var photos = window.EvidenceQueue && root.dataset.photosUrl
          ? window.EvidenceQueue.flush(root.dataset.photosUrl) : Promise.resolve(0);
        return photos.then(function (left) {
          photosWaiting = left;
          if (left || Q.nextStep({ answers: pendingIds().length, photos: left, submit: true, online: true }) !== "submit") {
            return stop();
          }
          return fetch(submitForm.action, { method: "POST", credentials: "same-origin", body: new FormData(submitForm),
                                            headers: { "Accept": "text/html" } }).then(function (response) {
            var path = new URL(response.url).pathname;
            if (response.ok && response.redirected && /\/submitted$/.test(path)) {
              Q.submitted(store, visitId);
              window.location.replace(response.url);
              return;
            }
            if (response.ok && response.redirected && path !== window.location.pathname) {
              // the sign-in page: the session ended; the submit stays queued
              showSignIn();
              return stop();
            }
            if (response.status === 400) {
              return response.text().then(function (html) {
                var doc = new DOMParser().parseFromString(html, "text/html");
                var main = doc.getElementById("main");
                if (main && main.querySelector("#missing")) {
                  Q.setRefused(store, visitId, main.innerHTML);
                  showRefused();
                  var boxEl = document.getElementById("sq-refused");
                  if (boxEl) boxEl.scrollIntoView();
                }
                stop();
              });
            }
            if (response.ok) {
              // already submitted (from another device): the form says so
              Q.submitted(store, visitId);
              window.location.replace(response.url);
              return;
            }
            stop();
          }, function () { networkDown = true; stop(); });
        });
      });
    });
  }

  if (submitForm) {
    submitForm.addEventListener("submit", function (event) {
      if (submitForm.dataset.sending === "true") { event.preventDefault(); return; }
      Q.cancelSubmit(store, visitId);
      store.remove("audit:refused:" + visitId);
      showRefused();
      if (!isOffline() && !signedOut && pendingIds().length === 0 && photosWaiting === 0) {
        submitForm.dataset.sending = "true";
        return;
      }
      // something still waits, or no network: "will be sent when you are online"
      event.preventDefault();
      Q.queueSubmit(store, visitId);
      updateState();
      sendQueuedSubmit();
    });
  }

  // --- start: answers newer than this page (queued, or written after the page was made) win ---------
  var serverTimes = {};
  try { serverTimes = JSON.parse(root.dataset.answerTimes || "{}"); } catch (e) { serverTimes = {}; }

  function restore() {
    var newer = Q.newerThanPage(store, visitId, serverTimes);
    Object.keys(newer).forEach(function (qid) {
      var b = box(qid);
      if (b) apply(b, newer[qid]);
    });
    // the form logic (read by static/js/form-logic-page.js, which runs after this script) sees them too
    try {
      var logic = JSON.parse(root.getAttribute("data-form-logic"));
      var keyOfId = {};
      (logic.sections || []).forEach(function (s) {
        (s.questions || []).forEach(function (q) { keyOfId[String(q.id)] = q.key; });
      });
      Object.keys(newer).forEach(function (qid) {
        if (keyOfId[qid]) logic.answers[keyOfId[qid]] = { value: newer[qid].value, na: !!newer[qid].na };
      });
      root.setAttribute("data-form-logic", JSON.stringify(logic));
    } catch (e) { /* no logic on this page */ }
  }

  // the network is (perhaps) back: answers first, then photos queued on any section, then a queued submit
  function online() {
    networkDown = false;
    flush().then(function () {
      if (Q.submitQueued(store, visitId)) return sendQueuedSubmit();
      if (!photosWaiting || navigator.onLine === false || !window.EvidenceQueue) return null;
      return window.EvidenceQueue.flush(root.dataset.photosUrl).then(function (left) { photosWaiting = left; updateState(); });
    });
  }

  restore();
  showRefused();
  updateState();
  online();
  document.addEventListener("ev:queue", countPhotos);
  document.addEventListener("DOMContentLoaded", countPhotos);  // static/js/evidence.js runs after this script
  window.addEventListener("online", online);
  window.addEventListener("offline", updateState);
  window.addEventListener("pageshow", function (event) { if (event.persisted) { restore(); online(); } });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) online(); });
  setInterval(function () { if (pendingIds().length || Q.submitQueued(store, visitId)) online(); }, RETRY_MS);
  root.dataset.ready = "true";
})();
