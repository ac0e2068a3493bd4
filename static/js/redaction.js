/* The review screen's editor of a photo's blurred areas (templates/evidence/_redaction.html).
 *
 * Boxes are drawn over the original, in the original's pixels scaled to the shown size, numbered
 * as in the list under the photo. Drag (mouse, pen or finger: pointer events) to add a box;
 * "Remove" takes one away. Each change is
 * sent at once (POST regions_url, JSON); the server makes the blurred versions again in the
 * background, and the state is polled until they are ready. No inline script or style: positions
 * are set through the CSSOM.
 */
(function () {
  "use strict";

  var MIN_PX = 8; // smallest box on screen

  function Editor(root) {
    this.root = root;
    this.d = root.dataset;
    this.width = parseInt(this.d.width, 10);
    this.height = parseInt(this.d.height, 10);
    this.stage = root.querySelector("[data-rd-stage]");
    this.layer = root.querySelector("[data-rd-layer]");
    this.list = root.querySelector("[data-rd-list]");
    this.message = root.querySelector("[data-rd-message]");
    this.regions = [];
    var items = this.list ? this.list.querySelectorAll("li[data-region-id]") : [];
    for (var i = 0; i < items.length; i++) {
      var li = items[i];
      this.regions.push({
        id: li.dataset.regionId, kind: li.dataset.kind, label: li.dataset.label,
        source_label: li.dataset.sourceLabel, x: +li.dataset.x, y: +li.dataset.y, w: +li.dataset.w, h: +li.dataset.h
      });
    }
    this.bind();
    this.drawBoxes();
    if (root.dataset.state === "pending") this.poll();
  }

  Editor.prototype.bind = function () {
    var self = this;
    if (this.list) {
      this.list.addEventListener("click", function (e) {
        var id = e.target && e.target.getAttribute("data-rd-remove");
        if (id) self.send({ remove: [id] });
      });
    }
    if (!this.layer) return;
    var start = null, box = null;
    this.layer.addEventListener("pointerdown", function (e) {
      if (e.button !== undefined && e.button > 0) return;
      if (e.target && e.target.getAttribute("data-rd-remove")) return;
      e.preventDefault();
      try { self.layer.setPointerCapture(e.pointerId); } catch (err) { /* a pointer no longer active */ }
      if (box) box.remove();
      var r = self.layer.getBoundingClientRect();
      start = { x: e.clientX - r.left, y: e.clientY - r.top, rect: r };
      box = document.createElement("div");
      box.className = "rd-box rd-box-new";
      self.layer.appendChild(box);
      place(box, start.x, start.y, 0, 0);
    });
    this.layer.addEventListener("pointermove", function (e) {
      if (!start) return;
      var x = clamp(e.clientX - start.rect.left, 0, start.rect.width);
      var y = clamp(e.clientY - start.rect.top, 0, start.rect.height);
      place(box, Math.min(x, start.x), Math.min(y, start.y), Math.abs(x - start.x), Math.abs(y - start.y));
    });
    function finish(e) {
      if (!start) return;
      var r = start.rect;
      var x = clamp(e.clientX - r.left, 0, r.width), y = clamp(e.clientY - r.top, 0, r.height);
      var left = Math.min(x, start.x), top = Math.min(y, start.y);
      var w = Math.abs(x - start.x), h = Math.abs(y - start.y);
      start = null;
      if (w < MIN_PX || h < MIN_PX) {
        box.remove();
        if (w > 2 || h > 2) self.say(self.d.msgSmall, true);
        return;
      }
      var sx = self.width / r.width, sy = self.height / r.height;
      self.send({ add: [{ kind: "other", x: Math.round(left * sx), y: Math.round(top * sy),
                          w: Math.round(w * sx), h: Math.round(h * sy) }] }, box);
    }
    this.layer.addEventListener("pointerup", finish);
    this.layer.addEventListener("pointercancel", function () { if (box) box.remove(); start = null; box = null; });
  };

  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }

  function place(el, x, y, w, h) {
    el.style.left = x + "px";
    el.style.top = y + "px";
    el.style.width = w + "px";
    el.style.height = h + "px";
  }

  Editor.prototype.drawBoxes = function () {
    if (!this.layer) return;
    var old = this.layer.querySelectorAll(".rd-box");
    for (var i = 0; i < old.length; i++) old[i].remove();
    for (var j = 0; j < this.regions.length; j++) {
      var r = this.regions[j];
      var el = document.createElement("div");
      el.className = "rd-box rd-box-" + r.kind;
      el.title = (j + 1) + ". " + r.label;
      var number = document.createElement("span");
      number.className = "rd-number rd-number-" + r.kind;
      number.setAttribute("aria-hidden", "true");
      number.textContent = String(j + 1);
      el.appendChild(number);
      el.style.left = (100 * r.x / this.width) + "%";
      el.style.top = (100 * r.y / this.height) + "%";
      el.style.width = (100 * r.w / this.width) + "%";
      el.style.height = (100 * r.h / this.height) + "%";
      this.layer.appendChild(el);
    }
  };

  Editor.prototype.drawList = function () {
    if (!this.list) return;
    this.list.textContent = "";
    for (var i = 0; i < this.regions.length; i++) {
      var r = this.regions[i];
      var li = document.createElement("li");
      li.dataset.regionId = r.id;
      li.dataset.kind = r.kind;
      li.dataset.x = r.x; li.dataset.y = r.y; li.dataset.w = r.w; li.dataset.h = r.h;
      li.dataset.label = r.label;
      li.dataset.sourceLabel = r.source_label;
      var span = document.createElement("span");
      span.className = "rd-item";
      var number = document.createElement("span");
      number.className = "rd-number rd-number-" + r.kind;
      number.setAttribute("aria-hidden", "true");
      number.textContent = String(i + 1);
      var text = document.createElement("span");
      text.textContent = r.label + " · " + r.source_label;
      span.appendChild(number);
      span.appendChild(text);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-outline-secondary rd-remove";
      button.setAttribute("data-rd-remove", r.id);
      button.textContent = this.d.msgRemove;
      li.appendChild(span);
      li.appendChild(button);
      this.list.appendChild(li);
    }
  };

  Editor.prototype.say = function (text, isError) {
    if (!this.message) return;
    this.message.textContent = text || "";
    this.message.classList.toggle("text-danger", !!isError);
  };

  Editor.prototype.apply = function (info) {
    this.regions = info.regions || [];
    this.root.dataset.state = info.state;
    var state = this.root.querySelector("[data-rd-state]");
    if (state) {
      state.className = "rd-state rd-state-" + info.state + " small mb-1";
      var label = state.querySelector("[data-rd-state-label]");
      if (label) label.textContent = info.state_label;
      var detail = state.querySelector("[data-rd-state-detail]");
      if (detail) detail.textContent = info.detail ? "· " + info.detail : "";
    }
    var retry = this.root.querySelector("[data-rd-retry]");
    if (retry) retry.hidden = !info.can_retry;
    var preview = this.root.querySelector("[data-rd-preview]");
    if (preview && info.preview_url) {
      preview.href = info.preview_url;
      preview.parentNode.hidden = false;
    }
    var editor = this.root.querySelector("[data-rd-editor]");
    if (editor && info.detected) editor.hidden = false;  // the first detection has finished
    var summary = this.root.querySelector("[data-rd-summary]");
    if (summary) summary.textContent = summary.textContent.replace(/\(\d+\)/, "(" + this.regions.length + ")");
    this.drawBoxes();
    this.drawList();
    noticeWaiting();
  };

  // the notice beside Approve goes once every photo of the page is blurred
  function noticeWaiting() {
    var notice = document.getElementById("redaction-waiting");
    if (!notice) return;
    var roots = document.querySelectorAll("[data-redaction]");
    for (var i = 0; i < roots.length; i++) if (roots[i].dataset.state !== "done") return;
    notice.hidden = true;
  }

  Editor.prototype.send = function (change, pendingBox) {
    var self = this;
    this.say(this.d.msgSaving);
    fetch(this.d.regionsUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": this.d.csrf },
      body: JSON.stringify(change)
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (pendingBox) pendingBox.remove();
      if (!result.ok) {
        self.say((result.body && result.body.error) || self.d.msgError, true);
        return;
      }
      self.apply(result.body);
      self.say(self.d.msgSaved);
      self.poll();
    }).catch(function () {
      if (pendingBox) pendingBox.remove();
      self.say(self.d.msgError, true);
    });
  };

  Editor.prototype.poll = function () {
    var self = this;
    if (this.timer) return;
    var tries = 0;
    function tick() {
      tries += 1;
      fetch(self.d.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (info) {
          if (info) self.apply(info);
          if (info && info.state === "pending" && tries < 120) {
            self.timer = setTimeout(tick, 1500);
          } else {
            self.timer = null;
            if (info && info.state === "done") self.say("");
          }
        })
        .catch(function () { self.timer = null; });
    }
    this.timer = setTimeout(tick, 1000);
  };

  function init() {
    var roots = document.querySelectorAll("[data-redaction]");
    for (var i = 0; i < roots.length; i++) {
      if (!roots[i].redactionEditor) roots[i].redactionEditor = new Editor(roots[i]);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
