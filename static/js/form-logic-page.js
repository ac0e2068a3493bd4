/* Applies the form logic (static/js/form-logic.js) to a page as the answers change, without a
 * round trip: the evaluator's form (one section a page) and the designer's preview (every section).
 *
 * The page carries the logic as data, never as script: the root's data-form-logic attribute holds
 * JSON {channel, sections, answers (as the server has them), pages (the
 * evaluator's form only)}. The root element ([data-logic-root]) holds the questions, each wrapped in
 * an element with data-logic-question (its key), data-question-id and data-kind; the preview's
 * sections carry data-logic-section. Answers: the server's, then answers still waiting in the
 * phone's queue (static/js/submissions.js keeps them in localStorage as audit:pending:<visit>:<id>),
 * then what the inputs of this page say. The server decides what is required with the engine.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-logic-root]");
  if (!root || !root.hasAttribute("data-form-logic") || !window.FormLogic) return;
  var logic;
  try { logic = JSON.parse(root.getAttribute("data-form-logic")); } catch (e) { return; }
  var visitId = root.getAttribute("data-visit-id");
  var PENDING = visitId ? "audit:pending:" + visitId + ":" : null;
  var keyOfId = {};
  (logic.sections || []).forEach(function (s) {
    (s.questions || []).forEach(function (q) { keyOfId[String(q.id)] = q.key; });
  });

  function number(raw) {
    var t = String(raw).trim().replace(",", ".");
    if (t === "") return null;
    var n = Number(t);
    return isNaN(n) ? t : n;
  }

  // the answer an element's inputs hold now (field names of templates/checklists/_question_input.html)
  function read(el) {
    var qid = el.getAttribute("data-question-id"), kind = el.getAttribute("data-kind");
    var na = el.querySelector('[name="q-' + qid + '-na"]');
    if (na && na.checked) return { value: null, na: true };
    var inputs = el.querySelectorAll('[name="q-' + qid + '"]');
    if (kind === "multi") {
      var chosen = [];
      inputs.forEach(function (i) { if (i.checked) chosen.push(i.value); });
      return { value: chosen.length ? chosen : null, na: false };
    }
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.type === "radio" || input.type === "checkbox") {
        if (!input.checked) continue;
        if (kind === "yes_no") return { value: input.value === "yes", na: false };
        if (kind === "scale") return { value: number(input.value), na: false };
        return { value: input.value, na: false };
      }
      if (kind === "number") return { value: number(input.value), na: false };
      return { value: input.value === "" ? null : input.value, na: false };
    }
    return { value: null, na: false };
  }

  function answers() {
    var out = {};
    var server = logic.answers || {};
    Object.keys(server).forEach(function (k) { out[k] = server[k]; });
    if (PENDING) {
      try {
        for (var i = 0; i < window.localStorage.length; i++) {
          var name = window.localStorage.key(i);
          if (!name || name.indexOf(PENDING) !== 0) continue;
          var key = keyOfId[name.slice(PENDING.length)];
          var w = JSON.parse(window.localStorage.getItem(name));
          if (key && w) out[key] = { value: w.value, na: !!w.na };
        }
      } catch (e) { /* no storage: the server's answers */ }
    }
    root.querySelectorAll("[data-logic-question]").forEach(function (el) {
      out[el.getAttribute("data-logic-question")] = read(el);
    });
    return out;
  }

  function setHidden(el, hidden) { if (el && el.hidden !== hidden) el.hidden = hidden; }

  function pages(shown) {
    if (!logic.pages) return;
    var current = Number(root.getAttribute("data-logic-current"));
    var visible = logic.pages.filter(function (p) { return shown.sections[p.key]; });
    var index = -1;
    visible.forEach(function (p, i) { if (p.number === current) index = i; });
    var progress = document.getElementById("sq-progress");
    var here = logic.pages.filter(function (p) { return p.number === current; })[0];
    if (progress && here) {
      progress.textContent = (root.getAttribute("data-text-progress") || "")
        .replace("{n}", index >= 0 ? String(index + 1) : "–").replace("{total}", String(visible.length))
        .replace("{title}", here.title);
    }
    var bar = document.querySelector(".sq-progress-line .progress-bar");
    if (bar && visible.length) bar.style.width = (index >= 0 ? Math.round(100 * (index + 1) / visible.length) : 0) + "%";
    setHidden(document.getElementById("sq-section-hidden"), index >= 0);
    var url = root.getAttribute("data-page-url") || "";
    var next = visible.filter(function (p) { return p.number > current; })[0];
    var back = visible.filter(function (p) { return p.number < current; }).pop();
    var nextLink = document.getElementById("sq-next"), backLink = document.getElementById("sq-back");
    if (nextLink) {
      setHidden(nextLink, !next);
      if (next) nextLink.href = url.replace("__n__", String(next.number));
    }
    if (backLink) {
      setHidden(backLink, !back);
      if (back) backLink.href = url.replace("__n__", String(back.number));
    }
    setHidden(document.getElementById("sq-bar-submit"), !!next);
    document.querySelectorAll("[data-logic-last]").forEach(function (el) { setHidden(el, !!next); });
  }

  function apply() {
    var shown = window.FormLogic.visibility(logic, answers(), logic.channel);
    root.querySelectorAll("[data-logic-question]").forEach(function (el) {
      setHidden(el, shown.questions[el.getAttribute("data-logic-question")] !== true);
    });
    root.querySelectorAll("[data-logic-section]").forEach(function (el) {
      setHidden(el, shown.sections[el.getAttribute("data-logic-section")] !== true);
    });
    pages(shown);
    root.setAttribute("data-logic-ready", "true");
  }

  root.addEventListener("change", apply);
  root.addEventListener("input", apply);
  root.addEventListener("sq:answer", apply);  // an answer written by script (the stopwatch)
  window.addEventListener("pageshow", apply);
  apply();
})();
