/* Registers the service worker (served at /sw.js, static/js/offline-sw.js) and stores a visit's whole
 * form on the phone: every section page of the form and the photos' thumbnails, in the Cache Storage
 * the service worker answers from when there is no network. The answers themselves are on the phone
 * already (static/js/offline-queue.js); the pages' copies are kept fresh as the evaluator moves
 * through the form online, and answers written after a copy was made are re-applied to it.
 *
 * Used by the evaluator's form (a started visit is stored once, at its first page) and by My visits
 * (the "Keep on this phone" button, [data-keep-visit]). Signing out deletes the stored pages.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var swUrl = script && script.getAttribute("data-sw-url");
  var PAGES_CACHE = "audit-pages";
  var hasCaches = typeof window.caches !== "undefined";

  function store(k, v) {
    try { if (v === undefined) return window.localStorage.getItem(k); window.localStorage.setItem(k, v); } catch (e) { /* none */ }
    return null;
  }

  // the same key as the service worker's pageKey: one entry per section of a form
  function pageKey(url) {
    var u = new URL(url, window.location.href);
    if (/^\/visits\/\d+\/form$/.test(u.pathname)) {
      return u.origin + u.pathname + "?section=" + encodeURIComponent(u.searchParams.get("section") || "1");
    }
    return u.origin + u.pathname;
  }

  function fetchPage(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("not stored: " + response.status);
        return response;
      });
  }

  /** Stores every section page of a visit's form and its thumbnails; resolves with the pages stored. */
  function keep(visitId, formUrl) {
    if (!hasCaches) return Promise.reject(new Error("no cache storage"));
    return caches.open(PAGES_CACHE).then(function (cache) {
      return fetchPage(formUrl).then(function (first) {
        return first.clone().text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var root = doc.getElementById("sq-form");
          var logic = JSON.parse((root && root.getAttribute("data-form-logic")) || "{}");
          var pageUrl = root && root.getAttribute("data-page-url");
          var pages = (logic.pages || []).map(function (p) { return p.number; });
          if (!pageUrl || !pages.length) throw new Error("not a form");
          var urls = pages.map(function (n) { return new URL(pageUrl.replace("__n__", String(n)), window.location.href).href; });
          var thumbs = {};
          var stored = [];
          return Promise.all(urls.map(function (url) {
            return fetchPage(url).then(function (response) {
              return response.clone().text().then(function (text) {
                var page = new DOMParser().parseFromString(text, "text/html");
                Array.prototype.forEach.call(page.querySelectorAll("img[src]"), function (img) {
                  var src = new URL(img.getAttribute("src"), window.location.href);
                  if (src.origin === window.location.origin && /^\/photos\/\d+\/thumb$/.test(src.pathname)) thumbs[src.href] = true;
                });
                stored.push(url);
                return cache.put(pageKey(url), response);
              });
            });
          })).then(function () {
            return cache.put(pageKey(formUrl.split("?")[0]), first);
          }).then(function () {
            return Promise.all(Object.keys(thumbs).map(function (src) {
              return fetch(src, { credentials: "same-origin" }).then(function (r) {
                return r.ok && !r.redirected ? cache.put(src, r) : null;
              }, function () { return null; });
            }));
          }).then(function () {
            store("audit:kept:" + visitId, new Date().toISOString());
            return stored.length;
          });
        });
      });
    });
  }

  function keptText(el, at) {
    var d = new Date(at);
    var when = isNaN(d.getTime()) ? "" : d.toLocaleString(document.documentElement.lang || undefined,
      { day: "numeric", month: "numeric", hour: "2-digit", minute: "2-digit" });
    return (el.getAttribute("data-text-kept") || "").replace("{when}", when);
  }

  function setupButton(button) {
    var visitId = button.getAttribute("data-keep-visit");
    var status = document.getElementById(button.getAttribute("aria-describedby") || "");
    var at = store("audit:kept:" + visitId);
    if (status && at) status.textContent = keptText(button, at);
    if (!hasCaches || !("serviceWorker" in navigator)) { button.hidden = true; return; }
    button.addEventListener("click", function () {
      button.disabled = true;
      if (status) status.textContent = button.getAttribute("data-text-keeping");
      ready().then(function () {
        return keep(visitId, button.getAttribute("data-form-url"));
      }).then(function () {
        if (status) status.textContent = keptText(button, store("audit:kept:" + visitId));
        button.setAttribute("data-kept", "true");
      }, function () {
        if (status) status.textContent = button.getAttribute("data-text-failed");
      }).then(function () { button.disabled = false; });
    });
  }

  // --- the service worker ----------------------------------------------------------------------
  var registration = null;
  function ready() {
    if (!registration) return Promise.resolve();
    // a service worker that controls the page answers from the stored pages when there is no network
    return registration.then(function (reg) {
      if (!reg) return null;
      return navigator.serviceWorker.ready.then(function (active) {
        // a page that loaded while the worker was installing is not controlled yet: ask to be
        if (!navigator.serviceWorker.controller && active.active) active.active.postMessage("claim");
        return active;
      });
    });
  }

  if (swUrl && "serviceWorker" in navigator && window.isSecureContext) {
    registration = navigator.serviceWorker.register(swUrl, { scope: "/" }).catch(function () { return null; });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-keep-visit]"), setupButton);

  // the evaluator's form of a started visit: stored once, at its first page (reloaded copies of each
  // page follow as the evaluator moves through the form online)
  var form = document.getElementById("sq-form");
  if (form && form.getAttribute("data-keep") === "true" && navigator.onLine !== false) {
    var visitId = form.getAttribute("data-visit-id");
    if (!store("audit:kept:" + visitId)) {
      ready().then(function () {
        return keep(visitId, form.getAttribute("data-page-url").replace("__n__", "1"));
      }).then(function () { form.setAttribute("data-kept", "true"); }, function () { /* kept later */ });
    } else {
      form.setAttribute("data-kept", "true");
    }
  }

  // signing out deletes the stored pages (the queue, in localStorage and IndexedDB, stays)
  Array.prototype.forEach.call(document.querySelectorAll('form[action$="/logout"]'), function (f) {
    f.addEventListener("submit", function () {
      if (hasCaches) caches.delete(PAGES_CACHE);
      try {
        for (var i = window.localStorage.length - 1; i >= 0; i--) {
          var k = window.localStorage.key(i);
          if (k && k.indexOf("audit:kept:") === 0) window.localStorage.removeItem(k);
        }
      } catch (e) { /* no storage */ }
    });
  });

  window.OfflineForm = { keep: keep, pageKey: pageKey };
})();
