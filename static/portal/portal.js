/* Seedance Studio: the portal's behaviour, no build step and no inline script (the CSP). */
(function () {
  function bindPromptCounter() {
    var prompt = document.getElementById("run-prompt");
    var counter = document.getElementById("prompt-counter");
    if (!prompt || !counter) return;
    var max = parseInt(prompt.getAttribute("data-max-chars"), 10);
    function update() {
      // Code points, as the server counts (an emoji is one, not two UTF-16 units).
      var used = Array.from(prompt.value).length;
      counter.textContent = used + " / " + max;
      counter.classList.toggle("field-error", used > max);
    }
    prompt.addEventListener("input", update);
    update();
  }
  // A form with data-confirm asks before it submits (what an onsubmit handler did).
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
  // A button with data-copy copies the text of the element it names (shown once JS runs).
  // Delegated, so buttons htmx swaps in (the copy-as-code panel) work as well.
  function bindCopyButtons() {
    if (!navigator.clipboard) return;
    document.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button || !navigator.clipboard) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
    });
  });
  document.addEventListener("htmx:afterSettle", bindCopyButtons);
  function ready() {
    bindPromptCounter();
    bindCopyButtons();
  }
  // A run's bar and elapsed time move between polls: the server gives the elapsed time at
  // render and the typical time; each poll's re-render replaces both with fresh values.
  var seen = new WeakMap();
  function elapsedOf(element) {
    var now = Date.now();
    if (!seen.has(element)) seen.set(element, now);
    return parseInt(element.getAttribute("data-elapsed-ms"), 10) + (now - seen.get(element));
  }
  function durationText(ms) {
    var seconds = Math.max(0, Math.floor(ms / 1000));
    var minutes = Math.floor(seconds / 60);
    var hours = Math.floor(minutes / 60);
    if (hours) return hours + " h " + (minutes % 60) + " min";
    if (minutes) return minutes + " min " + (seconds % 60) + " s";
    return seconds + " s";
  }
  function advanceProgress() {
    document.querySelectorAll("progress[data-typical-ms]").forEach(function (bar) {
      var typical = parseInt(bar.getAttribute("data-typical-ms"), 10);
      var floor = parseInt(bar.getAttribute("data-floor"), 10);
      var cap = parseInt(bar.getAttribute("data-cap"), 10);
      if (!(typical > 0)) return;
      var percent = Math.min(cap, Math.max(floor, (100 * elapsedOf(bar)) / typical));
      bar.value = Math.max(bar.value, percent);
    });
    document.querySelectorAll("#run-elapsed[data-elapsed-ms]").forEach(function (span) {
      span.textContent = durationText(elapsedOf(span));
    });
  }
  setInterval(advanceProgress, 500);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
