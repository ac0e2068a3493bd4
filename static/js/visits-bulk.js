/* The visits list's bulk actions: "select all on this page", the number selected, and only the
   fields the chosen action needs. Without this script every field shows and the form still works. */
(function () {
  "use strict";
  var form = document.querySelector("[data-bulk-form]");
  if (!form) return;
  var all = form.querySelector("[data-bulk-all]");
  var action = form.querySelector("#bulk-action");
  var count = form.querySelector("#bulk-count");

  function items() { return form.querySelectorAll("[data-bulk-item]"); }

  function update() {
    var boxes = items(), n = 0;
    for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) n++;
    if (count) count.textContent = n ? "· " + (form.dataset.textSelected || "").replace("{n}", String(n)) : "";
    if (all) {
      all.checked = boxes.length > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
    var chosen = action ? action.value : "";
    var parts = form.querySelectorAll("[data-bulk-for]");
    for (var j = 0; j < parts.length; j++) parts[j].hidden = parts[j].getAttribute("data-bulk-for") !== chosen;
  }

  if (all) all.addEventListener("change", function () {
    var boxes = items();
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
    update();
  });
  form.addEventListener("change", update);
  form.addEventListener("submit", function (event) {
    var boxes = items(), n = 0;
    for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) n++;
    if (!n) {
      event.preventDefault();
      window.alert(form.dataset.textNone);
    }
  });
  update();
})();
