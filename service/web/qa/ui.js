// The page's frame: which screen is up, the banner, and the feedback after a key press.

import { state } from "./state.js";

export const $ = (id) => document.getElementById(id);

const SCREENS = ["signin", "start", "review", "done", "leaderboard"];

export function show(name) {
  if (state.screen !== "leaderboard" && name === "leaderboard") state.lastScreen = state.screen;
  state.screen = name;
  for (const s of SCREENS) $(`screen-${s}`).hidden = s !== name;
  document.body.dataset.screen = name;
  $("progress").hidden = !(name === "review" || name === "done");
  $("user-nav").hidden = name === "signin";
  if (name !== "review") clearFeedback();
}

export function showBanner(text) {
  const banner = $("banner");
  banner.textContent = text;
  banner.hidden = false;
}

export function hideBanner() {
  $("banner").hidden = true;
}

// What just happened, said twice: on the undo button (where the eye goes to take an answer
// back; a bar shrinks over the undo window) and to screen readers. Nothing covers the images.
let feedbackTimer = 0;

export function feedback(text, { label = text, holdMs = 0 } = {}) {
  $("announce").textContent = text;
  $("undo-label").textContent = label;
  const bar = $("undo-timer");
  bar.style.animation = "none";
  void bar.offsetWidth; // restart the animation
  bar.style.animation = holdMs > 0 ? `shrink ${holdMs}ms linear forwards` : "none";
  bar.hidden = holdMs <= 0;
  clearTimeout(feedbackTimer);
  feedbackTimer = setTimeout(clearFeedback, holdMs > 0 ? holdMs : 1600);
}

function clearFeedback() {
  clearTimeout(feedbackTimer);
  $("undo-label").textContent = "Undo";
  $("undo-timer").hidden = true;
}

// Replay a button's "pressed" animation.
export function pressed(id) {
  const button = $(id);
  button.classList.remove("pressed");
  void button.offsetWidth;
  button.classList.add("pressed");
}

export function percent(rate) {
  return rate === null || rate === undefined ? "–" : `${Math.round(rate * 100)}%`;
}
