// The suspects screen: a page at a time, most suspicious first, the next page fetched ahead
// (with its thumbnails) while the lead works on this one; filters by product and status.

import * as API from "./api.js";
import { grid, renderBar } from "./bar.js";
import { prefetch } from "./images.js";
import { pick } from "./picker.js";
import { show } from "./screens.js";
import { PAGE, state } from "./state.js";
import { $, banner, failed } from "./ui.js";

function query(cursor) {
  return {
    limit: PAGE,
    status: state.status,
    product: state.filter ? state.filter.upc : "",
    cursor,
  };
}

function fetchAhead() {
  const root = $("grid");
  state.ahead = null;
  root.dataset.ahead = "none";
  if (!state.cursor) return;
  const cursor = state.cursor;
  root.dataset.ahead = "loading";
  const ahead = API.suspects(query(cursor));
  state.ahead = ahead;
  ahead
    // Warm the browser cache: the next page's pictures are there when it is shown.
    .then((page) => prefetch(page.items.flatMap((t) => [t.thumb_url, t.product.thumb_url, t.suggested?.thumb_url])))
    .then(() => {
      if (state.ahead === ahead) root.dataset.ahead = "ready";
    })
    .catch(() => {
      if (state.ahead === ahead) {
        state.ahead = null;
        root.dataset.ahead = "none";
      }
    });
}

export async function loadSuspects() {
  const root = $("grid");
  root.dataset.loading = "true";
  banner("");
  try {
    const page = await API.suspects(query(null));
    state.cursor = page.next_cursor;
    grid.reset(page.items);
    if (state.screen === "suspects" && !$("picker").open) grid.paint(); // focus the first tile
    fetchAhead();
  } catch (exc) {
    grid.reset([]);
    failed(exc, "Could not load the suspects");
  }
  root.dataset.loading = "false";
  renderBar();
}

async function showMore() {
  if (!state.cursor) return;
  const root = $("grid");
  root.dataset.loading = "true";
  try {
    const page = await (state.ahead || API.suspects(query(state.cursor)));
    state.cursor = page.next_cursor;
    grid.append(page.items);
    fetchAhead();
  } catch (exc) {
    failed(exc, "Could not load more suspects");
  }
  root.dataset.loading = "false";
  renderBar();
}

// Keep a screenful ahead: when few tiles are left after the lead's actions, show the next page.
export function topUp() {
  if (grid.tiles.length < PAGE / 2 && state.cursor && $("grid").dataset.loading !== "true") {
    showMore();
  }
}

export function goSuspects(reload = false) {
  show("suspects");
  if (reload || state.stale || !grid.tiles.length) {
    state.stale = false;
    loadSuspects();
  }
  else grid.paint();
}

// Only the suspects attributed to or suggested for this product ({upc, name}; null: any).
export function filterBy(product) {
  state.filter = product;
  $("filter-product-label").textContent = product ? `${product.name} (${product.upc})` : "Any product";
  $("filter-product-clear").hidden = !product;
}

export async function chooseFilter() {
  const product = await pick({ title: "Suspects of which product?" });
  if (!product) return grid.paint();
  filterBy({ upc: product.upc, name: product.name });
  loadSuspects();
}

$("load-more").addEventListener("click", showMore);
$("filter-status").addEventListener("change", (event) => {
  state.status = event.target.value;
  loadSuspects();
});
$("filter-product").addEventListener("click", chooseFilter);
$("filter-product-clear").addEventListener("click", () => {
  filterBy(null);
  loadSuspects();
});
