/* The status page of a PDF report or an export being made by a worker: asks the server for its progress
   every second until it is done or failed (#report-status carries the URL and the texts to show; an
   export's rows written of the total, when the answer has them). When it is done, the download starts
   by itself (the page stays, with its button, should the browser block it). */
(function () {
  "use strict";

  var box = document.getElementById("report-status");
  if (!box || ["queued", "rendering", "running"].indexOf(box.dataset.state) < 0) return;

  function poll() {
    fetch(box.dataset.url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (d) {
        document.getElementById("report-progress").textContent = d.progress;
        document.getElementById("report-bar").style.width = d.progress + "%";
        var rows = document.getElementById("report-rows");
        if (rows && box.dataset.rowsText && d.rows_total !== undefined) {
          rows.textContent = box.dataset.rowsText.replace("{done}", d.rows_done).replace("{total}", d.rows_total);
        }
        if (d.state === "done") {
          document.getElementById("report-state").textContent = box.dataset.readyText;
          var link = document.getElementById("report-download");
          link.classList.remove("d-none");
          if (d.download) window.location.assign(d.download);  // an attachment: the page stays
        } else if (d.state === "failed") {
          document.getElementById("report-failed").classList.remove("d-none");
        } else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 800);
})();
