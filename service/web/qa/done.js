// The end of a session: what was answered, at what pace, and the reviewer's standing.

import { api } from "./api.js";
import { outbox } from "./outbox.js";
import { renderProgress } from "./progress.js";
import { state } from "./state.js";
import { canUndo } from "./sync.js";
import { $, percent, show } from "./ui.js";

export function goDone() {
  show("done");
  renderProgress();
  renderDone();
  $("next-session").focus();
}

export async function renderDone() {
  const session = state.session;
  if (!session) return;
  const answers = state.answers;
  const matches = answers.filter((a) => a.entry.is_match).length;
  $("stat-reviewed").textContent = String(session.before + answers.length);
  $("stat-match").textContent = String(matches);
  $("stat-mismatch").textContent = String(answers.length - matches);
  const seconds = (Date.now() - state.started) / 1000;
  $("stat-pace").textContent = answers.length ? (seconds / answers.length).toFixed(1) : "–";
  const waiting = outbox.pendingFor(session.id).length;
  const status = $("done-status");
  if (waiting) {
    status.textContent = `Sending your last ${waiting === 1 ? "answer" : `${waiting} answers`}…` +
      (canUndo() ? " Press U to undo the last one." : "");
    return;
  }
  status.textContent = `All ${session.total} answers are saved. Thank you!`;
  try {
    const board = await api("GET", "/qa/leaderboard");
    const me = board.find((row) => row.username === state.user);
    if (me && state.screen === "done") {
      $("stat-rank").textContent = `${me.rank} of ${board.length}`;
      $("stat-activity").textContent = String(me.activity_points);
      $("stat-accuracy").textContent = String(me.accuracy_points);
      $("stat-agreement").textContent = percent(me.agreement_rate);
    }
  } catch {
    // The numbers above still stand; the standing shows next time.
  }
}
