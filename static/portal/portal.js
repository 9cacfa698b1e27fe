/* Seedance Studio: the prompt's live character counter. No build step. */
(function () {
  function bind() {
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
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bind);
  else bind();
})();
