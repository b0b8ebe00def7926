// The start screen: resume the reviewer's unfinished session, or start a new one.

import { HttpError, api, refused } from "./api.js";
import { goDone } from "./done.js";
import { outbox } from "./outbox.js";
import { goReview } from "./review.js";
import { state } from "./state.js";
import { TOTALS_KEY, store } from "./store.js";
import { $, hideBanner, show } from "./ui.js";

let openSession = null; // the server's unfinished session, when there is one
let unreachable = false; // the last check failed: the start button checks again

export async function goStart() {
  show("start");
  const button = $("start-button");
  const text = $("start-text");
  const error = $("start-error");
  $("start-title").textContent = `Ready to review, ${state.user}`;
  error.hidden = true;
  button.disabled = true;
  text.textContent = "Checking for an unfinished session…";
  openSession = null;
  unreachable = false;
  try {
    openSession = await api("GET", "/qa/session");
  } catch (exc) {
    if (!(exc instanceof HttpError && exc.status === 404)) {
      unreachable = true;
      text.textContent = "";
      error.textContent = refused(exc)
        ? `The server refused the API key (${exc.message}). Use Switch user to enter a valid one.`
        : `Could not reach the server (${exc.message}). Try again.`;
      error.hidden = false;
      button.textContent = "Try again";
      button.disabled = false;
      button.focus();
      return;
    }
  }
  if (state.screen !== "start") return;
  if (openSession) {
    const left = unanswered(openSession).length;
    text.textContent = `You have an unfinished session: ${left} snapshot${left === 1 ? "" : "s"} left.`;
    button.textContent = "Resume the session";
  } else {
    text.textContent = "A session hands you a batch of snapshots to compare with their product.";
    button.textContent = "Start a session";
  }
  button.disabled = false;
  button.focus();
}

// The session's snapshots minus those answered here: still in the outbox, or delivered since
// the session was read (the outbox may deliver between the check and the resume).
function unanswered(session) {
  const answered = outbox.answeredIn(session.session_id);
  return session.snapshots.filter((s) => !answered.has(s.snapshot_id));
}

async function startOrResume() {
  const button = $("start-button");
  const error = $("start-error");
  hideBanner();
  if (unreachable) return goStart();
  button.disabled = true;
  error.hidden = true;
  let session = openSession;
  let fresh = false;
  try {
    if (!session) {
      try {
        session = await api("POST", "/qa/session");
        fresh = true;
      } catch (exc) {
        // Another tab started one meanwhile: resume it.
        if (!(exc instanceof HttpError && exc.message === "Session already exists")) throw exc;
        session = await api("GET", "/qa/session");
      }
    }
  } catch (exc) {
    const empty = exc instanceof HttpError && exc.message === "Not enough snapshots to validate";
    error.textContent = empty
      ? "Nothing to review for you right now: every snapshot you have not seen has the votes it needs. Check back later."
      : `Could not start a session: ${exc.message}`;
    error.hidden = false;
    button.disabled = false;
    button.focus();
    return;
  }
  const items = sortByProduct(unanswered(session));
  const total = Math.max(sessionTotal(session, fresh), items.length);
  state.session = { id: session.session_id, total, before: total - items.length, items };
  state.index = 0;
  state.answers = [];
  state.started = Date.now();
  if (!items.length) return goDone();
  goReview();
}

// Snapshots the session handed out: remembered from its start (the server only tells how many
// are left).
function sessionTotal(session, fresh) {
  const totals = store.get(TOTALS_KEY, {});
  if (fresh) {
    totals[session.session_id] = session.snapshots.length;
    // Keep the map small: only recent sessions matter.
    const ids = Object.keys(totals).map(Number).sort((a, b) => b - a);
    for (const id of ids.slice(20)) delete totals[id];
    store.set(TOTALS_KEY, totals);
  }
  return Math.max(totals[session.session_id] || 0, session.remaining_snapshots_quantity);
}

// Same product in a row (the server already orders them so; this keeps it true regardless),
// products in order of first appearance.
function sortByProduct(items) {
  const first = new Map();
  items.forEach((item, i) => {
    if (!first.has(item.product_id)) first.set(item.product_id, i);
  });
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => first.get(a.item.product_id) - first.get(b.item.product_id) || a.i - b.i)
    .map(({ item }) => item);
}

$("start-button").addEventListener("click", startOrResume);
$("next-session").addEventListener("click", () => {
  openSession = null;
  goStart().then(() => {
    if (!unreachable && state.screen === "start") startOrResume();
  });
});
