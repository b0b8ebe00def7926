// The suspects grid and the action bar that follows its selection.

import { Grid } from "./grid.js";
import { state } from "./state.js";
import { $ } from "./ui.js";

export const grid = new Grid($("grid"), () => renderBar());

export function renderBar() {
  const onGrid = state.screen === "suspects";
  $("actionbar").hidden = !onGrid;
  const count = grid.selected.size;
  $("selection").textContent = count ? `${count} selected` : "";
  const none = !grid.tiles.length;
  for (const id of ["act-accept", "act-keep", "act-qa", "act-move"]) $(id).disabled = none || state.busy;
  $("act-undo").disabled = !state.undo.length || state.busy;
  $("grid-empty").hidden = !onGrid || !none || $("grid").dataset.loading === "true";
  $("load-more").hidden = !state.cursor;
  const shown = grid.tiles.length;
  $("suspects-count").textContent = shown
    ? `${shown} shown${state.cursor ? ", more below" : ""}`
    : "";
  $("grid").dataset.busy = state.busy ? "true" : "false";
  $("grid").dataset.undo = String(state.undo.length);
}
