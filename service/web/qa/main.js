// The QA review page. Plain ES modules, no build step; speaks the QA API under /qa.
// This module plugs the outbox into the screens and starts the page; each screen, and the
// keyboard, wires its own controls.

import { HttpError } from "./api.js";
import { renderDone } from "./done.js";
import "./keys.js";
import "./leaderboard.js";
import { on, outbox } from "./outbox.js";
import { goSignIn, signIn } from "./signin.js";
import { goStart } from "./start.js";
import { HOLD_MS, USERNAME, state } from "./state.js";
import { USER_KEY, store } from "./store.js";
import { renderSync } from "./sync.js";
import { showBanner } from "./ui.js";

on.changed = renderSync;
on.refused = () =>
  showBanner("The server refused the API key. Answers are kept: use Switch user to enter a valid key.");
on.emptied = () => {
  if (state.screen === "done") renderDone();
};
// 404: the snapshot is no longer in an open session of this user (idle past the TTL). Later
// answers of that session would fail the same way: the outbox dropped them; say so.
on.rejected = (entry, error, dropped) => {
  const why = error instanceof HttpError && error.status === 404
    ? "the session expired or was closed"
    : error.message;
  showBanner(`${dropped} answer${dropped === 1 ? " was" : "s were"} not recorded: ${why}. Start a new session to go on.`);
  if (state.session && state.session.id === entry.session_id) {
    state.session = null;
    if (state.screen === "review" || state.screen === "done") goStart();
  }
};

// -- leaving -------------------------------------------------------------------------------

window.addEventListener("beforeunload", (event) => {
  if (!outbox.entries.length) return;
  event.preventDefault();
  event.returnValue = ""; // older browsers need it to show the prompt
});
window.addEventListener("pagehide", () => outbox.flushOnExit());
window.addEventListener("online", () => outbox.schedule(0));

// -- start ---------------------------------------------------------------------------------

for (const el of document.querySelectorAll(".hold-seconds")) {
  el.textContent = String(Math.round(HOLD_MS / 100) / 10);
}
outbox.schedule();
const saved = store.get(USER_KEY, null);
if (typeof saved === "string" && USERNAME.test(saved)) signIn(saved);
else goSignIn();
