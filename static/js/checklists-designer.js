// Question form: show only the settings of the chosen kind. Without JavaScript every block shows.
(function () {
  "use strict";
  var select = document.querySelector("[data-kind-select]");
  if (!select) { return; }
  function update() {
    document.querySelectorAll("[data-for-kind]").forEach(function (block) {
      block.hidden = block.getAttribute("data-for-kind") !== select.value;
    });
  }
  select.addEventListener("change", update);
  update();
})();
