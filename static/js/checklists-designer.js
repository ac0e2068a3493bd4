// The designer's forms. Question form: show only the settings of the chosen kind. Condition
// picker (section and question forms): show only the values of the chosen earlier question.
// Without JavaScript every block shows.
(function () {
  "use strict";
  var select = document.querySelector("[data-kind-select]");
  if (select) {
    var updateKind = function () {
      document.querySelectorAll("[data-for-kind]").forEach(function (block) {
        block.hidden = block.getAttribute("data-for-kind").split(" ").indexOf(select.value) < 0;
      });
    };
    select.addEventListener("change", updateKind);
    updateKind();
  }
  var condition = document.querySelector("[data-condition-select]");
  if (condition) {
    var updateCondition = function () {
      document.querySelectorAll("[data-condition-for]").forEach(function (block) {
        block.hidden = block.getAttribute("data-condition-for") !== condition.value;
      });
    };
    condition.addEventListener("change", updateCondition);
    updateCondition();
  }
})();
