// The desk's keys: 1 2 3 switch screens; on the suspects, arrows (Shift: select on the way),
// Space, Esc, A K Q M U act, F filter, P the tile's product; on the product, F and Esc.

import { accept, keep, moveTo, qaFirst, undo } from "./actions.js";
import { grid } from "./bar.js";
import { state } from "./state.js";
import { chooseFilter, goSuspects, topUp } from "./suspects.js";
import { chooseProduct, goHistory, goProduct } from "./tabs.js";
import { $ } from "./ui.js";

document.addEventListener("keydown", (event) => {
  if (state.screen === "signin" || $("picker").open) return;
  const typing = event.target.closest("input, select, textarea");
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  if (key === "1") return goSuspects();
  if (key === "2") return goProduct(state.product);
  if (key === "3") return goHistory();
  if (state.screen === "product") {
    if (key === "f") {
      event.preventDefault();
      chooseProduct();
    } else if (key === "Escape") goSuspects();
    return;
  }
  if (state.screen !== "suspects") return;
  const handled = {
    ArrowLeft: () => grid.step("ArrowLeft", event.shiftKey),
    ArrowRight: () => grid.step("ArrowRight", event.shiftKey),
    ArrowUp: () => grid.step("ArrowUp", event.shiftKey),
    ArrowDown: () => grid.step("ArrowDown", event.shiftKey),
    " ": () => grid.toggle(),
    Escape: () => grid.clear(),
    a: accept,
    k: keep,
    q: qaFirst,
    m: moveTo,
    u: undo,
    f: chooseFilter,
    p: () => grid.current && goProduct(grid.current.product.upc),
  }[key];
  if (!handled) return;
  event.preventDefault();
  handled();
  if (key.startsWith("Arrow") && grid.focus >= grid.tiles.length - 2) topUp();
});
