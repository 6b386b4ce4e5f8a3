// The progress bar of a bundle build: polls the build's JSON status until it is done or failed.
// Without script, the page refreshes itself (a <noscript> meta refresh) and has a plain link.
(function () {
  "use strict";
  var box = document.getElementById("bundle-job");
  if (!box) { return; }
  var bar = document.getElementById("bundle-progress");
  var state = document.getElementById("bundle-state");
  var download = document.getElementById("bundle-download");
  var refresh = document.getElementById("bundle-refresh");
  if (refresh) { refresh.hidden = true; }
  function show(status) {
    box.setAttribute("data-state", status.state);
    bar.value = status.percent;
    bar.textContent = status.percent + "%";
    var label = state.getAttribute("data-label-" + status.state) || status.state;
    if (status.state === "running" && status.total) {
      label += " " + status.done + "/" + status.total;
    }
    if (status.state === "failed" && status.error) { label += ": " + status.error; }
    state.textContent = label;
    if (status.state === "done") { download.hidden = false; }
  }
  function poll() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { setTimeout(poll, 3000); return; }
        show(status);
        if (status.state === "queued" || status.state === "running") { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  var initial = box.getAttribute("data-state");
  if (initial === "queued" || initial === "running") { poll(); }
})();
