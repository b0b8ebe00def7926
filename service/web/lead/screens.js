// Which screen is up: sign in, suspects, product or history.

import { renderBar } from "./bar.js";
import { state } from "./state.js";
import { $ } from "./ui.js";

const SCREENS = ["signin", "suspects", "product", "history"];

export function show(name) {
  state.screen = name;
  $("toast").hidden = true;
  for (const s of SCREENS) $(`screen-${s}`).hidden = s !== name;
  document.body.dataset.screen = name;
  $("tabs").hidden = name === "signin";
  $("user-nav").hidden = name === "signin";
  for (const tab of document.querySelectorAll(".tab")) {
    tab.setAttribute("aria-current", tab.dataset.screen === name ? "page" : "false");
  }
  renderBar();
}
