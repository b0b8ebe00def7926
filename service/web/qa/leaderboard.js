// The leaderboard screen, reached from anywhere; Back returns where the reviewer was.

import { api } from "./api.js";
import { goDone } from "./done.js";
import { goReview } from "./review.js";
import { goStart } from "./start.js";
import { state } from "./state.js";
import { $, percent, show } from "./ui.js";

async function goLeaderboard() {
  show("leaderboard");
  $("screen-leaderboard").focus({ preventScroll: true });
  const body = $("leaderboard-body");
  const error = $("leaderboard-error");
  error.hidden = true;
  try {
    const board = await api("GET", "/qa/leaderboard");
    body.replaceChildren(...board.map(boardRow));
    if (!board.length) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = 6;
      td.textContent = "No reviews yet.";
      tr.append(td);
      body.replaceChildren(tr);
    }
  } catch (exc) {
    error.textContent = `Could not load the leaderboard: ${exc.message}`;
    error.hidden = false;
  }
}

function boardRow(row) {
  const tr = document.createElement("tr");
  if (row.username === state.user) tr.className = "me";
  for (const value of [
    row.rank, row.username, row.accuracy_points, row.activity_points, row.reviewed,
    percent(row.agreement_rate),
  ]) {
    const td = document.createElement("td");
    td.textContent = String(value);
    tr.append(td);
  }
  return tr;
}

function leaveLeaderboard() {
  const back = state.lastScreen;
  if (back === "review" && state.session) goReview();
  else if (back === "done" && state.session) goDone();
  else goStart();
}

$("nav-leaderboard").addEventListener("click", goLeaderboard);
$("start-leaderboard").addEventListener("click", goLeaderboard);
$("done-leaderboard").addEventListener("click", goLeaderboard);
$("leaderboard-back").addEventListener("click", leaveLeaderboard);
