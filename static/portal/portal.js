/* Seedance Studio: the portal's behaviour, no build step and no inline script (the CSP). */
(function () {
  function bindPromptCounter() {
    var prompt = document.getElementById("run-prompt");
    var counter = document.getElementById("prompt-counter");
    if (!prompt || !counter) return;
    var max = parseInt(prompt.getAttribute("data-max-chars"), 10);
    function update() {
      var used = prompt.value.length;
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
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
