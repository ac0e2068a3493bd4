/* Shared page behaviour for every page.
   Wide tables sit in .table-responsive boxes that scroll sideways on a phone. A box that scrolls
   must be reachable with the keyboard (WCAG 2.1.1), so it becomes a focusable, named group while
   it overflows, and an ordinary box again when it fits. */
(function () {
  "use strict";

  function nameOf(box) {
    var table = box.querySelector("table");
    var caption = table && table.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    var el = box;
    while (el) {
      var prev = el.previousElementSibling;
      while (prev) {
        if (/^H[1-6]$/.test(prev.tagName)) return prev.textContent.trim();
        var inner = prev.querySelectorAll ? prev.querySelectorAll("h1,h2,h3,h4,h5,h6") : [];
        if (inner.length) return inner[inner.length - 1].textContent.trim();
        prev = prev.previousElementSibling;
      }
      el = el.parentElement;
      if (el && el.tagName === "MAIN") break;
    }
    return document.title;
  }

  function update() {
    var boxes = document.querySelectorAll(".table-responsive");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "group");
        if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
          box.setAttribute("aria-label", nameOf(box));
          box.dataset.autoLabel = "1";
        }
        box.dataset.autoFocusable = "1";
      } else if (!scrolls && box.dataset.autoFocusable) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        if (box.dataset.autoLabel) box.removeAttribute("aria-label");
        delete box.dataset.autoFocusable;
        delete box.dataset.autoLabel;
      }
    }
  }

  var timer = null;
  function later() {
    clearTimeout(timer);
    timer = setTimeout(update, 150);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
  window.addEventListener("load", update);
  window.addEventListener("resize", later);
})();

/* Bars whose length is a figure (a score, a progress) take it from data-bar-width, a percentage:
   the Content-Security-Policy allows no style attribute in a page. */
(function () {
  "use strict";

  function size() {
    var bars = document.querySelectorAll("[data-bar-width]");
    for (var i = 0; i < bars.length; i++) {
      var pct = parseFloat(bars[i].getAttribute("data-bar-width"));
      bars[i].style.width = (isFinite(pct) ? Math.max(0, Math.min(100, pct)) : 0) + "%";
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", size);
  } else {
    size();
  }
})();
