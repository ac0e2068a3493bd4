/* Evidence photos on the evaluator's form.
 *
 * Each [data-evidence-widget] has a camera button. A chosen photo is scaled down in the browser
 * (about 2500 px on the long edge, JPEG, which also drops its metadata), kept in IndexedDB and
 * uploaded with progress. A failed upload says so, stays queued on the device and is sent again
 * when the connection returns and every 30 seconds. The server knows a retried upload by its
 * client_uid and stores it once. Nothing here touches the answers: no input has a name and
 * every button is type=button, so the surrounding answers form never carries a photo.
 */
(function () {
  "use strict";
  // the page may name this script twice (the widgets' assets and the form's scripts): run once, or a
  // second copy would send the same queued photo again beside the first
  if (window.EvidenceQueue) return;
  window.EvidenceQueue = {};

  var MAX_EDGE = 2500;
  var JPEG_QUALITY = 0.85;
  var RETRY_MS = 30000;
  var DB_NAME = "evidence-uploads";
  var STORE = "queue";

  // --- IndexedDB queue (falls back to memory when unavailable) -------------------------------
  var memory = {};
  var dbPromise = null;

  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve) {
      if (!window.indexedDB) return resolve(null);
      var req;
      try { req = indexedDB.open(DB_NAME, 1); } catch (e) { return resolve(null); }
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "uid" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { resolve(null); };
      req.onblocked = function () { resolve(null); };
    });
    return dbPromise;
  }

  function tx(mode, fn) {
    return openDb().then(function (db) {
      if (!db) return fn(null);
      return new Promise(function (resolve) {
        var t;
        try { t = db.transaction(STORE, mode); } catch (e) { return resolve(fn(null)); }
        var result = fn(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        t.onerror = t.onabort = function () { resolve(null); };
      });
    });
  }

  // the form's state bar counts the queued photos (static/js/submissions.js listens)
  function changed() { document.dispatchEvent(new CustomEvent("ev:queue")); }

  function queuePut(item) {
    memory[item.uid] = item;
    return tx("readwrite", function (store) { if (store) store.put(item); }).then(changed);
  }

  function queueDelete(uid) {
    delete memory[uid];
    return tx("readwrite", function (store) { if (store) store.delete(uid); }).then(changed);
  }

  function queueAll() {
    return tx("readonly", function (store) { return store ? store.getAll() : null; }).then(function (items) {
      var byUid = {};
      (items || []).forEach(function (it) { byUid[it.uid] = it; });
      Object.keys(memory).forEach(function (uid) { byUid[uid] = memory[uid]; });
      return Object.keys(byUid).map(function (uid) { return byUid[uid]; });
    });
  }

  // --- helpers ------------------------------------------------------------------------------
  function newUid() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  /** The photo drawn upright (browsers apply EXIF orientation) at most MAX_EDGE px, as JPEG. */
  function scaleDown(file) {
    return new Promise(function (resolve) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        try {
          var w = img.naturalWidth, h = img.naturalHeight;
          var scale = Math.min(1, MAX_EDGE / Math.max(w, h));
          var canvas = document.createElement("canvas");
          canvas.width = Math.max(1, Math.round(w * scale));
          canvas.height = Math.max(1, Math.round(h * scale));
          var ctx = canvas.getContext("2d");
          ctx.fillStyle = "#fff";
          ctx.fillRect(0, 0, canvas.width, canvas.height);
          ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
          canvas.toBlob(function (blob) {
            URL.revokeObjectURL(url);
            resolve(blob || file);
          }, "image/jpeg", JPEG_QUALITY);
        } catch (e) {
          URL.revokeObjectURL(url);
          resolve(file);
        }
      };
      img.onerror = function () { URL.revokeObjectURL(url); resolve(file); }; // the server judges it
      img.src = url;
    });
  }

  // --- a widget -----------------------------------------------------------------------------
  var widgets = [];
  var inFlight = {};
  var sending = {}; // uid -> the promise of its upload
  var uploaded = {}; // uids the server has: never sent again from this page

  function Widget(root) {
    this.root = root;
    this.d = root.dataset;
    this.list = root.querySelector(".ev-list");
    this.pending = {}; // uid -> tile
    var self = this;
    var input = root.querySelector(".ev-file");
    if (input) {
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files || []);
        input.value = "";
        files.forEach(function (f) { self.add(f); });
      });
    }
    Array.prototype.forEach.call(root.querySelectorAll(".ev-item[data-photo-id]"), function (li) {
      self.bindUploaded(li);
    });
  }

  Widget.prototype.matches = function (item) {
    return item.url === this.d.uploadUrl && String(item.questionId || "") === String(this.d.questionId || "");
  };

  Widget.prototype.add = function (file) {
    var self = this;
    var uid = newUid();
    var tile = this.pendingTile(uid, null, "");
    this.setStatus(tile, this.d.msgUploading);
    // the capture time is read from the original before scaling drops it (static/js/offline-capture.js)
    var reading = window.CaptureTime ? window.CaptureTime.read(file) : Promise.resolve(null);
    reading.then(function (capturedAt) {
      return scaleDown(file).then(function (blob) { return { blob: blob, capturedAt: capturedAt }; });
    }).then(function (scaled) {
      var blob = scaled.blob;
      var item = { uid: uid, url: self.d.uploadUrl, questionId: self.d.questionId || "",
                   caption: tile.querySelector(".ev-caption").value, blob: blob, created: Date.now(),
                   capturedAt: scaled.capturedAt || "" };
      var preview = tile.querySelector(".ev-preview");
      if (preview) {
        // a file the browser cannot draw shows no broken image while it is judged
        preview.onerror = function () { preview.removeAttribute("src"); preview.classList.add("ev-preview-empty"); };
        preview.src = URL.createObjectURL(blob);
      }
      var maxBytes = Number(self.d.maxMb || 15) * 1024 * 1024;
      if (blob.size > maxBytes) {
        self.refuse(tile, uid, self.d.msgTooLarge);
        return;
      }
      queuePut(item).then(function () { self.upload(item); });
    });
  };

  Widget.prototype.pendingTile = function (uid, blob, caption) {
    var self = this;
    var li = el("li", { "class": "ev-item ev-pending", "data-uid": uid });
    var img = el("img", { "class": "ev-preview", alt: "" });
    if (blob) img.src = URL.createObjectURL(blob);
    var body = el("div", { "class": "ev-body" });
    var status = el("span", { "class": "ev-status", role: "status" });
    var bar = el("div", { "class": "progress ev-progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" });
    var fill = el("div", { "class": "progress-bar" });
    fill.style.width = "0%"; // through the CSSOM: the Content-Security-Policy refuses style attributes
    bar.appendChild(fill);
    var capId = "ev-cap-" + uid;
    var label = el("label", { "class": "visually-hidden", "for": capId }, this.d.labelCaption);
    var cap = el("input", { "class": "form-control ev-caption", id: capId, type: "text", maxlength: "500",
                            placeholder: this.d.labelCaption, autocomplete: "off" });
    cap.value = caption || "";
    cap.addEventListener("change", function () {
      var photoId = li.getAttribute("data-photo-id");
      if (photoId) return; // uploaded meanwhile: handled by bindUploaded
      var item = memory[uid];
      if (item) { item.caption = cap.value; queuePut(item); }
    });
    var retry = el("button", { type: "button", "class": "btn btn-outline-primary ev-retry", hidden: "" }, this.d.labelRetry);
    retry.addEventListener("click", function () { var it = memory[uid]; if (it) self.upload(it); });
    var remove = el("button", { type: "button", "class": "btn btn-outline-danger ev-remove" }, this.d.labelRemove);
    remove.addEventListener("click", function () {
      if (li.getAttribute("data-photo-id")) return; // bound as uploaded
      if (inFlight[uid]) { inFlight[uid].abort(); delete inFlight[uid]; }
      queueDelete(uid);
      li.remove();
    });
    body.appendChild(status);
    body.appendChild(bar);
    body.appendChild(label);
    body.appendChild(cap);
    body.appendChild(retry);
    body.appendChild(remove);
    li.appendChild(img);
    li.appendChild(body);
    this.list.appendChild(li);
    this.pending[uid] = li;
    return li;
  };

  Widget.prototype.setStatus = function (tile, text, isError) {
    var s = tile.querySelector(".ev-status");
    s.textContent = text || "";
    s.classList.toggle("ev-error", !!isError);
    s.classList.toggle("text-success", !isError && text === this.d.msgUploaded);
  };

  Widget.prototype.setProgress = function (tile, pct) {
    var bar = tile.querySelector(".ev-progress");
    if (!bar) return;
    bar.setAttribute("aria-valuenow", String(Math.round(pct)));
    bar.firstChild.style.width = pct + "%";
  };

  // a refused photo does not exist: its message takes the thumbnail's place, the caption box goes
  // (there is nothing to caption), and the remove button stays to clear it away
  Widget.prototype.refuse = function (tile, uid, message) {
    queueDelete(uid);
    this.setStatus(tile, message, true);
    var status = tile.querySelector(".ev-status");
    if (status) status.setAttribute("role", "alert");
    ["ev-progress", "ev-caption", "ev-retry"].forEach(function (cls) {
      var node = tile.querySelector("." + cls);
      if (node) node.remove();
    });
    var label = tile.querySelector("label.visually-hidden");
    if (label) label.remove();
    var img = tile.querySelector(".ev-preview");
    if (img) {
      if (img.src && img.src.indexOf("blob:") === 0) URL.revokeObjectURL(img.src);
      var mark = el("span", { "class": "ev-refused-mark", "aria-hidden": "true" }, "!");
      tile.replaceChild(mark, img);
    }
    tile.classList.add("ev-refused");
  };

  // sends one queued photo; resolves {done: uploaded or refused for good, json, status}. Shared by the
  // widgets and by flushVisit (photos queued on a section page that is not open now)
  function send(item, caption, csrf, onprogress) {
    var uid = item.uid;
    return new Promise(function (resolve) {
      var form = new FormData();
      form.append("file", item.blob, "photo.jpg");
      form.append("question_id", item.questionId || "");
      form.append("caption", caption || "");
      form.append("client_uid", uid);
      form.append("captured_at", item.capturedAt || "");
      var xhr = new XMLHttpRequest();
      inFlight[uid] = xhr;
      xhr.open("POST", item.url);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      if (onprogress) xhr.upload.onprogress = onprogress;
      xhr.onload = function () {
        delete inFlight[uid];
        var json = null;
        var isJson = (xhr.getResponseHeader("Content-Type") || "").indexOf("application/json") === 0;
        if (isJson) { try { json = JSON.parse(xhr.responseText); } catch (e) { json = null; } }
        if ((xhr.status === 200 || xhr.status === 201) && json && json.id) {
          uploaded[uid] = true;
          queueDelete(uid).then(function () { resolve({ uploaded: true, json: json, status: xhr.status }); });
          return;
        }
        if (json && json.error && [400, 404, 409, 413, 415, 422].indexOf(xhr.status) >= 0) {
          resolve({ refused: true, json: json, status: xhr.status });
          return;
        }
        // signed out (the sign-in page), a server error: stays queued
        resolve({ failed: true, status: xhr.status });
      };
      xhr.onerror = xhr.ontimeout = function () { delete inFlight[uid]; resolve({ failed: true, status: 0 }); };
      xhr.onabort = function () { delete inFlight[uid]; resolve({ aborted: true }); };
      xhr.send(form);
    });
  }

  Widget.prototype.upload = function (item) {
    var self = this;
    var uid = item.uid;
    if (sending[uid]) return sending[uid];
    if (inFlight[uid] || uploaded[uid]) return Promise.resolve();
    var tile = this.pending[uid] || this.pendingTile(uid, item.blob, item.caption);
    var retry = tile.querySelector(".ev-retry");
    retry.hidden = true;
    if (!navigator.onLine) {
      this.setStatus(tile, this.d.msgOffline, true);
      retry.hidden = false;
      return Promise.resolve();
    }
    var caption = tile.querySelector(".ev-caption").value;
    this.setStatus(tile, this.d.msgUploading);
    this.setProgress(tile, 0);
    var done = send(item, caption || item.caption || "", this.csrf(), function (e) {
      if (e.lengthComputable) self.setProgress(tile, (e.loaded / e.total) * 100);
    }).then(function (result) {
      delete sending[uid];
      if (result.uploaded) {
        self.becomeUploaded(tile, result.json);
      } else if (result.refused) {
        var msg = result.status === 413 ? (result.json.error || self.d.msgTooLarge) : result.json.error;
        self.refuse(tile, uid, self.d.msgRefused + " " + msg);
      } else if (result.failed) {
        self.failed(tile);
      }
    });
    sending[uid] = done;
    return done;
  };

  Widget.prototype.failed = function (tile) {
    this.setStatus(tile, navigator.onLine ? this.d.msgQueued : this.d.msgOffline, true);
    this.setProgress(tile, 0);
    tile.querySelector(".ev-retry").hidden = false;
  };

  Widget.prototype.csrf = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return this.d.csrf || (meta && meta.getAttribute("content")) || "";
  };

  Widget.prototype.becomeUploaded = function (tile, json) {
    var uid = tile.getAttribute("data-uid");
    delete this.pending[uid];
    tile.classList.remove("ev-pending");
    tile.setAttribute("data-photo-id", json.id);
    tile.setAttribute("data-update-url", json.update_url);
    tile.setAttribute("data-delete-url", json.delete_url);
    var bar = tile.querySelector(".ev-progress");
    if (bar) bar.remove();
    var retry = tile.querySelector(".ev-retry");
    if (retry) retry.remove();
    var img = tile.querySelector(".ev-preview");
    var link = el("a", { "class": "ev-thumb", href: json.report_url, target: "_blank", rel: "noopener" });
    var thumb = el("img", { src: json.thumb_url, alt: json.caption || "" });
    link.appendChild(thumb);
    tile.replaceChild(link, img);
    this.setStatus(tile, this.d.msgUploaded);
    var cap = tile.querySelector(".ev-caption");
    // a caption typed while uploading is saved now
    if (cap.value !== (json.caption || "")) this.saveCaption(tile, cap.value);
    this.bindUploaded(tile);
  };

  Widget.prototype.post = function (url, payload) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": this.csrf() },
      body: JSON.stringify(payload || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) throw new Error(j.error || String(r.status));
        return j;
      });
    });
  };

  Widget.prototype.saveCaption = function (tile, value) {
    var self = this;
    return this.post(tile.getAttribute("data-update-url"), { caption: value }).then(function () {
      self.setStatus(tile, self.d.msgCaptionSaved);
    }, function (e) {
      self.setStatus(tile, self.d.msgCaptionFailed + " " + (e.message || ""), true);
    });
  };

  Widget.prototype.bindUploaded = function (li) {
    if (li.getAttribute("data-bound")) return;
    li.setAttribute("data-bound", "1");
    var self = this;
    var cap = li.querySelector(".ev-caption");
    if (cap) cap.addEventListener("change", function () { self.saveCaption(li, cap.value); });
    var remove = li.querySelector(".ev-remove");
    if (remove) remove.addEventListener("click", function () {
      remove.disabled = true;
      self.post(li.getAttribute("data-delete-url"), {}).then(function () {
        li.remove();
      }, function (e) {
        remove.disabled = false;
        if (!li.querySelector(".ev-status")) li.querySelector(".ev-body").prepend(el("span", { "class": "ev-status" }));
        self.setStatus(li, self.d.msgRemoveFailed + " " + (e.message || ""), true);
      });
    });
  };

  // --- start ----------------------------------------------------------------------------------
  function retryAll() {
    queueAll().then(function (items) {
      items.forEach(function (item) {
        if (inFlight[item.uid] || sending[item.uid] || uploaded[item.uid]) return;
        for (var i = 0; i < widgets.length; i++) {
          if (widgets[i].matches(item)) { memory[item.uid] = item; widgets[i].upload(item); return; }
        }
      });
    });
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return (meta && meta.getAttribute("content")) || "";
  }

  /** The photos queued on this phone for an upload address (one visit's). */
  function queuedFor(url) {
    return queueAll().then(function (items) { return items.filter(function (it) { return it.url === url; }); });
  }

  /** Sends every photo queued for a visit, also those whose section page is not open; resolves with
   * how many are still waiting. A queued submit (static/js/submissions.js) waits for this. */
  function flushVisit(url) {
    return queuedFor(url).then(function (items) {
      return Promise.all(items.map(function (item) {
        if (sending[item.uid]) return sending[item.uid];
        if (uploaded[item.uid]) return null;
        for (var i = 0; i < widgets.length; i++) {
          if (widgets[i].matches(item)) { memory[item.uid] = item; return widgets[i].upload(item); }
        }
        if (inFlight[item.uid]) return null;
        var done = send(item, item.caption || "", csrfToken()).then(function (result) {
          delete sending[item.uid];
          if (result.refused) return queueDelete(item.uid);  // refused for good: it cannot go in
          return null;
        });
        sending[item.uid] = done;
        return done;
      }));
    }).then(function () { return queuedFor(url); }).then(function (left) { return left.length; });
  }

  window.EvidenceQueue = {
    loaded: true,
    count: function (url) { return queuedFor(url).then(function (items) { return items.length; }); },
    flush: flushVisit
  };

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-evidence-widget]"), function (root) {
      if (root.getAttribute("data-evidence-ready")) return;
      root.setAttribute("data-evidence-ready", "1");
      widgets.push(new Widget(root));
    });
    retryAll(); // photos queued on an earlier visit to this page
    window.addEventListener("online", retryAll);
    setInterval(retryAll, RETRY_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
