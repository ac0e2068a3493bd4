/* The evaluator's form: every answer is saved at once and never lost.
 *
 * Each change is written first to localStorage ("pending", keyed by visit and question) and
 * then sent to the server; it leaves localStorage only when the server confirms it. On load,
 * pending answers override what the server rendered and are sent again; they are retried when
 * the network returns and periodically. The server keeps the answer with the latest
 * answered_at, so a re-sent or late write is harmless. No framework, no CDN.
 */
(function () {
  "use strict";

  var root = document.getElementById("sq-form");
  if (!root || root.dataset.readOnly === "true") return;

  var visitId = root.dataset.visitId;
  var saveUrl = root.dataset.saveUrl;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : "";
  var PREFIX = "audit:pending:" + visitId + ":";
  var SW_PREFIX = "audit:stopwatch:" + visitId + ":";
  var RETRY_MS = 8000;
  var TEXT_DEBOUNCE_MS = 600;
  var stateEl = document.getElementById("sq-state");
  var inFlight = {};       // question id -> client_id of the answer being sent
  var inFlightPromise = {}; // question id -> the promise of that request
  var timers = {};
  var networkDown = false;

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

  function readPending(qid) {
    var raw = store.get(PREFIX + qid);
    if (!raw) return null;
    try { return JSON.parse(raw); } catch (e) { store.remove(PREFIX + qid); return null; }
  }
  function writePending(w) { store.set(PREFIX + w.question_id, JSON.stringify(w)); }
  function clearPending(qid, clientId) {
    var current = readPending(qid);
    if (current && current.client_id === clientId) store.remove(PREFIX + qid);
  }
  function pendingIds() {
    var seen = {};
    store.keys().forEach(function (k) {
      if (k && k.indexOf(PREFIX) === 0) seen[k.slice(PREFIX.length)] = true;
    });
    return Object.keys(seen);
  }

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
  function fill(template, n) { return (template || "").replace("{n}", String(n)); }

  function updateState() {
    if (!stateEl) return;
    var n = pendingIds().length;
    var text, cls = "";
    if (n === 0) {
      text = root.dataset.textSaved;
    } else if (networkDown || navigator.onLine === false) {
      text = n === 1 ? root.dataset.textOfflineOne : fill(root.dataset.textOfflineMany, n);
      cls = "sq-offline";
    } else if (Object.keys(inFlight).length) {
      text = root.dataset.textSaving;
    } else {
      text = fill(root.dataset.textWaitingMany, n);
      cls = "sq-offline";
    }
    stateEl.textContent = text;
    stateEl.className = "sq-state " + cls;
    root.dataset.pending = String(n);
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
      return response.json().catch(function () { return null; }).then(function (body) {
        return { status: response.status, body: body };
      });
    }).then(function (result) {
      if (inFlight[qid] === w.client_id) delete inFlight[qid];
      networkDown = false;
      var body = result.body;
      if (result.status === 200 && body && body.ok) {
        clearPending(qid, w.client_id);
      } else if (body && (body.code === "invalid" || body.code === "locked" || body.code === "bad_request")) {
        // the server refused this answer for good: say why; retrying would not help
        clearPending(qid, w.client_id);
        showError(box(qid), body.error);
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

  // --- submit: only when nothing is waiting -----------------------------------------------------
  var submitForm = document.getElementById("sq-submit-form");
  if (submitForm) {
    submitForm.addEventListener("submit", function (event) {
      if (submitForm.dataset.sending === "true") { event.preventDefault(); return; }
      if (pendingIds().length === 0) { submitForm.dataset.sending = "true"; return; }
      event.preventDefault();
      flush().then(function () {
        if (pendingIds().length === 0) {
          submitForm.dataset.sending = "true";
          submitForm.submit();
        } else {
          window.alert(root.dataset.textNotSent);
        }
      });
    });
  }

  // --- start: pending answers win over the server's rendering, and are sent again ---------------
  function restore() {
    pendingIds().forEach(function (qid) {
      var w = readPending(qid);
      var b = box(qid);
      if (w && b) apply(b, w);
    });
  }

  restore();
  updateState();
  flush();
  window.addEventListener("online", function () { networkDown = false; flush(); });
  window.addEventListener("offline", updateState);
  window.addEventListener("pageshow", function (event) { if (event.persisted) { restore(); flush(); } });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) flush(); });
  setInterval(function () { if (pendingIds().length) flush(); }, RETRY_MS);
  root.dataset.ready = "true";
})();
