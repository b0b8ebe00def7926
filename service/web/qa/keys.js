// The keyboard: ← or A match, → or L not a match, U undo (also on the done screen).

import { answer, undo } from "./review.js";
import { state } from "./state.js";
import { closeZoom } from "./zoom.js";

const KEYS = {
  ArrowLeft: () => answer(true),
  a: () => answer(true),
  ArrowRight: () => answer(false),
  l: () => answer(false),
  u: () => undo(),
};

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target instanceof Element && event.target.closest("input, textarea, select")) return;
  if (state.screen !== "review" && !(state.screen === "done" && event.key.toLowerCase() === "u")) return;
  const action = KEYS[event.key] || KEYS[event.key.toLowerCase()];
  if (!action) return;
  event.preventDefault();
  // A held-down key must not answer a run of snapshots.
  if (event.repeat) return;
  closeZoom();
  action();
});
