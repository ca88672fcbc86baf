// Our own small script (the page's policy allows script files from this origin only, none inline).
// Once per page: htmx runs it again when a followed run page swaps in a fresh copy of itself.
if (!window.scorecardUi) {
  window.scorecardUi = true;

  // The kickoff dialog's "open" links load it into a <dialog> with htmx; showing it modal takes script.
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target instanceof HTMLDialogElement && !target.open) {
      target.showModal();
    }
  });

  // A page that follows a running run (data-follow) waits while someone types or has a dialog
  // open: swapping in a fresh page then would lose what they are doing.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const busy = document.querySelector("dialog[open]") || document.activeElement?.closest("form");
    if (event.detail.elt.hasAttribute("data-follow") && busy) {
      event.preventDefault();
    }
  });
}
