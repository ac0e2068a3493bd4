/* Room left in every text field with a maximum length (textarea or input with maxlength).
 *
 * A text area always shows how many characters are left; a one-line field shows it while it has
 * the focus or when little room is left. When pasted or dropped text does not fit, the browser
 * cuts it at the limit without a word: this says how much was cut, so nothing is lost unseen.
 * The words come from data attributes on <body> (translated by the server); no inline script.
 */
(function () {
  "use strict";

  var body = document.body;
  if (!body) return;
  var texts = {
    left: body.getAttribute("data-tl-left") || "{n} characters left",
    leftOne: body.getAttribute("data-tl-left-one") || "1 character left",
    full: body.getAttribute("data-tl-full") || "No room left",
    cut: body.getAttribute("data-tl-cut") || "{cut} characters did not fit and were cut off. The limit is {max}."
  };
  var fmt;
  try { fmt = new Intl.NumberFormat(document.documentElement.lang || undefined); } catch (e) { fmt = null; }
  function num(n) { return fmt ? fmt.format(n) : String(n); }
  var counter = 0;

  function limitOf(field) {
    var max = parseInt(field.getAttribute("maxlength"), 10);
    return isFinite(max) && max > 0 ? max : 0;
  }

  function limited(field) {
    if (!field || !field.getAttribute) return false;
    if (field.tagName === "TEXTAREA") return limitOf(field) > 0;
    if (field.tagName !== "INPUT") return false;
    var type = (field.getAttribute("type") || "text").toLowerCase();
    return ["text", "search", "email", "url", "tel", ""].indexOf(type) >= 0 && limitOf(field) > 0;
  }

  function anchorOf(field) {
    var group = field.closest(".input-group");
    return group || field;
  }

  function setup(field) {
    if (field.tlCount) return field.tlCount;
    counter += 1;
    var id = (field.id || "tl-field-" + counter) + "-room";
    var count = document.createElement("div");
    count.className = "tl-count form-text";
    count.id = id;
    var cut = document.createElement("div");
    cut.className = "tl-cut alert alert-warning py-1 px-2 mt-1 mb-0 small";
    cut.setAttribute("role", "alert");
    cut.hidden = true;
    var anchor = anchorOf(field);
    anchor.insertAdjacentElement("afterend", cut);
    anchor.insertAdjacentElement("afterend", count);
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", described ? described + " " + id : id);
    field.tlCount = count;
    field.tlCut = cut;
    update(field);
    return count;
  }

  function update(field) {
    var count = field.tlCount;
    if (!count) return;
    var max = limitOf(field);
    var left = Math.max(0, max - field.value.length);
    count.textContent = left === 0 ? texts.full : (left === 1 ? texts.leftOne : texts.left.replace("{n}", num(left)));
    count.classList.toggle("tl-low", left <= max * 0.1);
    var show = field.tagName === "TEXTAREA" || document.activeElement === field || left <= max * 0.2;
    count.hidden = !show;
  }

  function noteCut(field, wanted) {
    var max = limitOf(field);
    var cutBy = wanted - max;
    if (cutBy <= 0 || !field.tlCut) return;
    field.tlCut.textContent = texts.cut.replace("{cut}", num(cutBy)).replace("{max}", num(max));
    field.tlCut.hidden = false;
  }

  // what the field would hold if nothing were cut: its text with the pasted text in the selection
  function wantedLength(field, inserted) {
    var start = field.selectionStart, end = field.selectionEnd;
    if (typeof start !== "number" || typeof end !== "number") { start = end = field.value.length; }
    return field.value.length - (end - start) + inserted.length;
  }

  function onInsert(event, text) {
    var field = event.target;
    if (!limited(field) || !text) return;
    setup(field);
    var wanted = wantedLength(field, text);
    if (wanted > limitOf(field)) {
      // after the browser has inserted (and cut) it
      setTimeout(function () { noteCut(field, wanted); update(field); }, 0);
    }
  }

  document.addEventListener("paste", function (event) {
    var data = event.clipboardData || window.clipboardData;
    onInsert(event, data ? data.getData("text") : "");
  }, true);
  document.addEventListener("drop", function (event) {
    var data = event.dataTransfer;
    onInsert(event, data ? data.getData("text") : "");
  }, true);
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!limited(field)) return;
    setup(field);
    if (field.tlCut && !field.tlCut.hidden && field.value.length < limitOf(field)) field.tlCut.hidden = true;
    update(field);
  }, true);
  document.addEventListener("focusin", function (event) {
    if (limited(event.target)) { setup(event.target); update(event.target); }
  });
  document.addEventListener("focusout", function (event) {
    if (limited(event.target) && event.target.tlCount) setTimeout(function () { update(event.target); }, 0);
  });

  function start() {
    var fields = document.querySelectorAll("textarea[maxlength], input[maxlength]");
    for (var i = 0; i < fields.length; i++) if (limited(fields[i])) setup(fields[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
