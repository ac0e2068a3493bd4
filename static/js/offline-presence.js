/* The presence check at the start of a visit (visits/presence.py on the server).
 *
 * A start form with [data-ask-position] asks the phone for its position once, when the evaluator
 * taps Start. The coordinates go only in that one request, which computes the distance from the
 * location and drops them; nothing is kept on the phone. Refused ("not given"), unavailable or too
 * slow: the visit starts anyway and says so to the reviewer.
 */
(function () {
  "use strict";

  var form = document.querySelector("form[data-ask-position]");
  if (!form) return;
  var TIMEOUT_MS = 15000;

  function set(name, value) {
    var input = form.querySelector('input[name="' + name + '"]');
    if (input) input.value = value;
  }

  form.addEventListener("submit", function (event) {
    if (form.dataset.positionDone === "true") return;
    event.preventDefault();
    var button = form.querySelector('button[type="submit"]');
    if (button) { button.disabled = true; button.textContent = form.dataset.textAsking || button.textContent; }
    var finished = false;
    function go(state, position) {
      if (finished) return;
      finished = true;
      set("position", state);
      if (position) {
        set("lat", String(position.coords.latitude));
        set("lon", String(position.coords.longitude));
        set("accuracy", String(Math.round(position.coords.accuracy || 0)));
      }
      form.dataset.positionDone = "true";
      form.submit();
    }
    if (!navigator.geolocation) { go("unavailable"); return; }
    var timer = setTimeout(function () { go("unavailable"); }, TIMEOUT_MS + 1000);
    navigator.geolocation.getCurrentPosition(function (position) {
      clearTimeout(timer);
      go("given", position);
    }, function (error) {
      clearTimeout(timer);
      go(error && error.code === 1 ? "not_given" : "unavailable");
    }, { enableHighAccuracy: true, timeout: TIMEOUT_MS, maximumAge: 60000 });
  });
})();
