// Any picture of the review screen, enlarged in a dialog.

import { $ } from "./ui.js";

const zoom = $("zoom");

function openZoom(img) {
  if (!img || !img.src) return;
  $("zoom-img").src = img.src;
  $("zoom-img").alt = img.alt;
  zoom.showModal();
}

export function closeZoom() {
  if (zoom.open) zoom.close();
}

$("screen-review").addEventListener("click", (event) => {
  const frame = event.target.closest("button.frame");
  if (frame) openZoom(frame.querySelector("img"));
});
zoom.addEventListener("click", (event) => {
  if (event.target === zoom || event.target === $("zoom-img")) zoom.close();
});
