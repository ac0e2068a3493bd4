/* The status page of a PDF report being made by a worker: asks the server for its progress every second
   until the report is done or failed (#report-status carries the URL and the text to show). When it is
   done, the download starts by itself (the page stays, with its button, should the browser block it). */
(function () {
  "use strict";

  var box = document.getElementById("report-status");
  if (!box || (box.dataset.state !== "queued" && box.dataset.state !== "rendering")) return;

  function poll() {
    fetch(box.dataset.url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (d) {
        document.getElementById("report-progress").textContent = d.progress;
        document.getElementById("report-bar").style.width = d.progress + "%";
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
