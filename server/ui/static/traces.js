// A trace's timing bars: each span's offset and width (percent of the trace) come in data-
// attributes, since the page's policy allows no inline styles; without this script the bars stay
// hidden and each span's offset reads as text.
(() => {
  const tree = document.querySelector("[data-span-tree]");
  if (!tree) return;
  for (const bar of tree.querySelectorAll(".timing-bar")) {
    const offset = Math.min(Math.max(Number(bar.dataset.offset) || 0, 0), 100);
    const width = Math.min(Math.max(Number(bar.dataset.width) || 0, 0.5), 100 - offset);
    bar.style.left = `${offset}%`;
    bar.style.width = `${Math.max(width, 0.5)}%`;
  }
  tree.classList.add("timed");
})();
