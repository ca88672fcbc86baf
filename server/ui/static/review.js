// Human review from the keyboard on a record's page. The form with the focus (else the first
// open one) takes the keys: p or 1 picks pass, f or 0 picks fail; Enter saves from a pass/fail
// choice, Ctrl+Enter (or Cmd+Enter) from the reasoning. Number fields save on Enter natively.
// Without this script the page works the same with the mouse and the Save button.
(function () {
  "use strict";

  function activeForm(target) {
    var inForm = target && target.closest ? target.closest("form[data-review]") : null;
    return inForm || document.querySelector("details[open] > form[data-review]");
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var form = activeForm(target);
    if (!form || event.altKey || event.isComposing) return;
    if (event.key === "Enter") {
      var fromReasoning = target.tagName === "TEXTAREA" && (event.ctrlKey || event.metaKey);
      if (fromReasoning || (target.type === "radio" && form.contains(target))) {
        event.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    var typing = target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type !== "radio");
    if (typing || event.ctrlKey || event.metaKey || event.key.length !== 1) return;
    var radios = form.querySelectorAll("input[type=radio][data-keys]");
    for (var i = 0; i < radios.length; i++) {
      if (radios[i].dataset.keys.split(" ").indexOf(event.key.toLowerCase()) !== -1) {
        event.preventDefault();
        radios[i].checked = true;
        radios[i].focus();
        return;
      }
    }
  });
})();
