// The Records page's enhancements; without them the page works through plain forms and links.
(() => {
  const search = document.querySelector("[data-records-search]");
  const pillInput = search?.querySelector("input[name=pills]");

  // Typing a pill and pressing Enter (or space) turns it into a removable chip; Enter applies them.
  const addChip = (text) => {
    const chip = document.createElement("span");
    chip.className = "pill";
    chip.dataset.pill = "";
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "filter";
    hidden.value = text;
    const label = document.createElement("span");
    label.className = "pill-text";
    label.textContent = text;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "pill-remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `Remove filter ${text}`);
    remove.addEventListener("click", () => chip.remove());
    chip.append(hidden, label, remove);
    pillInput.closest("label").before(chip);
  };
  const takePills = () => {
    for (const text of pillInput.value.split(/\s+/)) {
      if (text) addChip(text);
    }
    pillInput.value = "";
  };
  if (pillInput) {
    pillInput.addEventListener("keydown", (event) => {
      if (event.key === " " && pillInput.value.trim()) {
        event.preventDefault();
        takePills();
      }
    });
    search.addEventListener("submit", takePills);
  }

  // A chip's × link reloads without that pill; with script it also leaves the typed search intact.
  for (const link of document.querySelectorAll("[data-pill] .pill-remove")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      link.closest("[data-pill]").remove();
      search.requestSubmit();
    });
  }

  // The column picker: buttons move a field up or down; the form sends the ticked ones in order.
  for (const item of document.querySelectorAll("[data-column]")) {
    const name = item.querySelector("input").value;
    for (const [text, label, move] of [
      ["↑", "up", () => item.previousElementSibling?.before(item)],
      ["↓", "down", () => item.nextElementSibling?.after(item)],
    ]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "column-move";
      button.textContent = text;
      button.setAttribute("aria-label", `Move ${name} ${label}`);
      button.addEventListener("click", move);
      item.append(button);
    }
  }

  // A box in the table's head ticks every record on the page.
  const rescore = document.getElementById("rescore");
  const head = document.querySelector(".records-table thead th");
  if (rescore && head) {
    const all = document.createElement("input");
    all.type = "checkbox";
    all.setAttribute("aria-label", "Tick every record on this page");
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll("input[name=record_id]")) box.checked = all.checked;
    });
    head.replaceChildren(all);
  }
})();
