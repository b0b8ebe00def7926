// The progress bar in the top bar: snapshots of the session reviewed so far.

import { state } from "./state.js";
import { $ } from "./ui.js";

export function renderProgress() {
  const { total, before } = state.session;
  const done = Math.min(total, before + state.index);
  $("progress-done").textContent = String(done);
  $("progress-total").textContent = String(total);
  const bar = $("progress-bar");
  bar.setAttribute("aria-valuemax", String(total));
  bar.setAttribute("aria-valuenow", String(done));
  bar.setAttribute("aria-valuetext", `${done} of ${total} reviewed`);
  $("progress-fill").style.width = `${total ? (100 * done) / total : 0}%`;
}
