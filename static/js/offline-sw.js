/* The service worker: served from the root scope by the route /sw.js (audit_app/submissions/offline.py),
 * which puts self.OFFLINE_CONFIG = {version, precache} before this file. The version is a digest of the
 * app's static files, so each deploy that changes them is a new service worker.
 *
 * Two caches:
 *   audit-static-<version>  the app's scripts, styles and icons; a new version fills its own at install
 *                           and deletes the older ones when it takes over
 *   audit-pages             the evaluator's form pages (each section) and photo thumbnails; it outlives
 *                           versions, so a visit stored on the phone stays usable after a deploy
 * Nothing of the queue (answers, photos, the queued submit) is here: it lives in localStorage and
 * IndexedDB (static/js/offline-queue.js, static/js/evidence.js), which no version deletes.
 *
 * Pages are fetched from the network first and fall back to the phone's copy only when there is no
 * network; only GET requests are ever answered from a cache.
 */
/* global self, caches, fetch, URL, Response */
"use strict";

var CONFIG = self.OFFLINE_CONFIG || { version: "dev", precache: [] };
var STATIC_CACHE = "audit-static-" + CONFIG.version;
var PAGES_CACHE = "audit-pages";

// the pages kept for offline use: the evaluator's form (every section) and My visits
var FORM_PAGE = /^\/visits\/\d+\/form$/;
var KEPT_PAGE = /^\/my\/visits$/;
var THUMB = /^\/photos\/\d+\/thumb$/;

/** One cache key per form page: /visits/5/form and /visits/5/form?section=1 are the same page. */
function pageKey(url) {
  var u = new URL(url);
  if (FORM_PAGE.test(u.pathname)) {
    var section = u.searchParams.get("section") || "1";
    return u.origin + u.pathname + "?section=" + encodeURIComponent(section);
  }
  return u.origin + u.pathname;
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC_CACHE).then(function (cache) {
      // one missing file must not stop the install: each is added on its own
      return Promise.all(CONFIG.precache.map(function (url) {
        return cache.add(new Request(url, { cache: "reload" })).catch(function () { return null; });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.map(function (name) {
        if (name.indexOf("audit-static-") === 0 && name !== STATIC_CACHE) return caches.delete(name);
        return null;
      }));
    }).then(function () { return self.clients.claim(); })
  );
});

function fromNetworkThenCache(request, key) {
  return fetch(request).then(function (response) {
    // only a real page of the form: a sign-in redirect or an error is never kept
    if (response.ok && response.type === "basic" && !response.redirected) {
      var copy = response.clone();
      caches.open(PAGES_CACHE).then(function (cache) { return cache.put(key, copy); });
    }
    return response;
  }, function (error) {
    return caches.open(PAGES_CACHE).then(function (cache) { return cache.match(key); }).then(function (hit) {
      if (hit) return hit;
      throw error;
    });
  });
}

function fromCacheThenNetwork(request) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(request).then(function (hit) {
      if (hit) return hit;
      return fetch(request).then(function (response) {
        if (response.ok && response.type === "basic") cache.put(request, response.clone());
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && (FORM_PAGE.test(url.pathname) || KEPT_PAGE.test(url.pathname))) {
    event.respondWith(fromNetworkThenCache(request, pageKey(request.url)));
  } else if (THUMB.test(url.pathname)) {
    event.respondWith(fromNetworkThenCache(request, url.href));
  } else if (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/bootstrap/") === 0) {
    event.respondWith(fromCacheThenNetwork(request));
  }
});

// the page asks which version runs (tests and the page's "updated" check)
// and a page that loaded while this worker was being installed asks to be taken over
self.addEventListener("message", function (event) {
  if (event.data === "version" && event.ports && event.ports[0]) event.ports[0].postMessage(CONFIG.version);
  if (event.data === "claim") event.waitUntil(self.clients.claim());
});
