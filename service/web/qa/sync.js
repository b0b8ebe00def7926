// The sync indicator in the top bar (answers sent or waiting) and whether undo is possible.

import { outbox } from "./outbox.js";
import { state } from "./state.js";
import { $ } from "./ui.js";

// The page's last answer is still held in the outbox.
export function canUndo() {
  const last = state.answers[state.answers.length - 1];
  return Boolean(last && outbox.holds(last.entry));
}

export function renderSync() {
  const sync = $("sync");
  if (!state.user) {
    sync.hidden = true;
    return;
  }
  const n = outbox.entries.length;
  sync.hidden = false;
  sync.classList.toggle("warn", outbox.failing);
  sync.classList.toggle("ok", n === 0);
  if (n === 0) sync.textContent = "All answers saved";
  else if (outbox.failing) sync.textContent = `Connection problem · retrying ${n} answer${n === 1 ? "" : "s"}`;
  else sync.textContent = `Sending ${n} answer${n === 1 ? "" : "s"}…`;
  $("btn-undo").disabled = !canUndo();
}
