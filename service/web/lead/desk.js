// The QA lead's desk. Plain ES modules, no build step; speaks the lead's API.
//
// Suspects come a page at a time, most suspicious first; the next page is fetched ahead
// (with its thumbnails) while the lead works on this one. An action (accept the suggestion,
// keep, send to QA first, move to any product) applies to the selected tiles, or to the
// focused one, and goes onto an undo stack: U takes back the last action, all its tiles.
// Every change names the version the tile showed; a 409 (someone else changed it) reloads.

import * as API from "./api.js";
import { Grid } from "./grid.js";
import { prefetch } from "./images.js";
import { pick } from "./picker.js";
import { showHistory } from "./history.js";
import { showProduct } from "./product.js";

const $ = (id) => document.getElementById(id);
// Tiles per page: ?page=N (4 to 200; tests, small screens), else 24.
const PAGE = (() => {
  const n = Number(new URLSearchParams(location.search).get("page"));
  return Number.isInteger(n) && n >= 4 && n <= 200 ? n : 24;
})();

const state = {
  screen: null,
  filter: null, // {upc, name}: only suspects attributed to or suggested for it
  status: "",
  cursor: null, // the next page's cursor
  ahead: null, // the next page, fetched ahead: a promise of {items, next_cursor}
  busy: false,
  undo: [], // actions, newest last: {kind, label, items: [{tile, index, version}]}
  product: null, // the product view's UPC
  stale: false, // changed elsewhere (the history screen's undo): reload on the next visit
};

const grid = new Grid($("grid"), () => renderBar());

// -- screens -------------------------------------------------------------------------------

const SCREENS = ["signin", "suspects", "product", "history"];

function show(name) {
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

function banner(text) {
  const node = $("banner");
  node.textContent = text || "";
  node.hidden = !text;
}

let toastTimer = 0;
function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    node.hidden = true;
  }, 4000);
}

function failed(exc, what) {
  if (exc instanceof API.HttpError && (exc.status === 401 || exc.status === 403)) {
    banner(`The server refused the API key (${exc.message}). Use Switch user to enter a lead's key.`);
  } else {
    banner(`${what}: ${exc.message}`);
  }
}

// -- sign in -------------------------------------------------------------------------------

function goSignIn() {
  show("signin");
  $("username").value = API.who.user || "";
  $("api-key").value = API.who.key || "";
  $("username").focus();
}

$("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("username").value.trim();
  if (!API.USERNAME.test(name)) {
    $("signin-error").textContent = "Use 1 to 64 letters, digits, dots, underscores or dashes.";
    $("signin-error").hidden = false;
    $("username").setAttribute("aria-invalid", "true");
    return;
  }
  $("signin-error").hidden = true;
  API.who.user = name;
  API.who.key = $("api-key").value.trim();
  $("whoami").textContent = name;
  goSuspects(true);
});

$("sign-out").addEventListener("click", () => {
  API.who.user = null;
  banner("");
  goSignIn();
});

// -- suspects ------------------------------------------------------------------------------

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

async function loadSuspects() {
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
function topUp() {
  if (grid.tiles.length < PAGE / 2 && state.cursor && $("grid").dataset.loading !== "true") {
    showMore();
  }
}

function goSuspects(reload = false) {
  show("suspects");
  if (reload || state.stale || !grid.tiles.length) {
    state.stale = false;
    loadSuspects();
  }
  else grid.paint();
}

function renderBar() {
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

$("load-more").addEventListener("click", showMore);
$("filter-status").addEventListener("change", (event) => {
  state.status = event.target.value;
  loadSuspects();
});

async function chooseFilter() {
  const product = await pick({ title: "Suspects of which product?" });
  if (!product) return grid.paint();
  state.filter = { upc: product.upc, name: product.name };
  $("filter-product-label").textContent = `${product.name} (${product.upc})`;
  $("filter-product-clear").hidden = false;
  loadSuspects();
}

$("filter-product").addEventListener("click", chooseFilter);
$("filter-product-clear").addEventListener("click", () => {
  state.filter = null;
  $("filter-product-label").textContent = "Any product";
  $("filter-product-clear").hidden = true;
  loadSuspects();
});

// -- actions -------------------------------------------------------------------------------

// Run `call(tile)` for each tile, one at a time (each is its own transaction on the server).
async function apply(kind, label, tiles, call, { removes }) {
  if (state.busy || !tiles.length) return;
  state.busy = true;
  renderBar();
  banner("");
  const done = [];
  let problem = null;
  for (const tile of tiles) {
    const index = grid.indexOf(tile.snapshot_id);
    try {
      const snapshot = await call(tile);
      done.push({ tile, index, version: snapshot.version, snapshot });
    } catch (exc) {
      problem = { exc, tile };
      break;
    }
  }
  if (done.length) {
    state.undo.push({ kind, label, items: done });
    if (removes) grid.remove(done.map((d) => d.tile.snapshot_id));
    else for (const d of done) grid.update(d.tile.snapshot_id, { version: d.version, qa_first: d.snapshot.qa_first });
    grid.selected.clear();
    grid.paint();
    toast(`${label} ${done.length} snapshot${done.length === 1 ? "" : "s"} · U to undo`);
  }
  state.busy = false;
  renderBar();
  if (problem) {
    const { exc, tile } = problem;
    if (exc instanceof API.HttpError && exc.status === 409) {
      banner(`Snapshot ${tile.snapshot_id} was changed by someone else meanwhile; the list is reloaded.`);
      await loadSuspects();
    } else {
      failed(exc, `Snapshot ${tile.snapshot_id}`);
    }
  }
  topUp();
}

function accept() {
  const tiles = grid.targets().filter((t) => t.suggested);
  if (!tiles.length) return toast("No suggestion to accept here");
  apply("move", "Moved", tiles, (t) =>
    API.change(t.snapshot_id, t.version, { product_upc: t.suggested.upc, reason: "suggestion accepted" }),
  { removes: true });
}

function keep() {
  apply("keep", "Kept", grid.targets(), (t) => API.change(t.snapshot_id, t.version, { reviewed: true }), {
    removes: true,
  });
}

function qaFirst() {
  const tiles = grid.targets();
  const pending = tiles.filter((t) => t.status === "pending" && !t.qa_first);
  if (!pending.length) return toast("Only pending snapshots go to QA (and these already are first)");
  apply("qa", "Sent to QA first:", pending, (t) => API.change(t.snapshot_id, t.version, { qa_first: true }), {
    removes: false,
  });
}

async function moveTo() {
  const tiles = grid.targets();
  if (!tiles.length) return;
  const lead = tiles[0];
  const first = API.suggestions(lead.snapshot_id)
    .then((s) => s.suggestions.filter((p) => !p.attributed).map((p) => ({ ...p, thumb_url: p.image_url })))
    .catch(() => []);
  const product = await pick({
    title: tiles.length === 1 ? `Move snapshot ${lead.snapshot_id} to…` : `Move ${tiles.length} snapshots to…`,
    first,
    exclude: tiles.length === 1 ? lead.product.upc : "",
  });
  grid.paint();
  if (!product) return;
  const movable = tiles.filter((t) => t.product.upc !== product.upc);
  apply("move", `Moved to ${product.name}:`, movable, (t) =>
    API.change(t.snapshot_id, t.version, { product_upc: product.upc, reason: "moved on the lead desk" }),
  { removes: true });
}

async function undo() {
  const last = state.undo[state.undo.length - 1];
  if (!last || state.busy) return;
  state.busy = true;
  renderBar();
  const back = [];
  let problem = null;
  for (const item of [...last.items].reverse()) {
    try {
      let snapshot;
      if (last.kind === "move") snapshot = await API.undoMove(item.tile.snapshot_id, item.version);
      else if (last.kind === "keep") snapshot = await API.change(item.tile.snapshot_id, item.version, { reviewed: false });
      else snapshot = await API.change(item.tile.snapshot_id, item.version, { qa_first: false });
      back.push({ ...item, snapshot });
    } catch (exc) {
      problem = exc;
      break;
    }
  }
  last.items = last.items.filter((i) => !back.some((b) => b.tile.snapshot_id === i.tile.snapshot_id));
  if (!last.items.length) state.undo.pop();
  if (last.kind === "qa") {
    for (const b of back) grid.update(b.tile.snapshot_id, { version: b.snapshot.version, qa_first: false });
  } else {
    grid.restore(back.map((b) => ({ index: b.index, tile: { ...b.tile, version: b.snapshot.version } })));
  }
  state.busy = false;
  renderBar();
  if (problem) failed(problem, "Could not undo all of it");
  else toast(`Undone: ${last.label} ${back.length} snapshot${back.length === 1 ? "" : "s"}`);
}

$("act-accept").addEventListener("click", accept);
$("act-keep").addEventListener("click", keep);
$("act-qa").addEventListener("click", qaFirst);
$("act-move").addEventListener("click", moveTo);
$("act-undo").addEventListener("click", undo);

// -- product view and history ----------------------------------------------------------------

async function goProduct(upc) {
  show("product");
  $("screen-product").focus();
  if (!upc) return;
  state.product = upc;
  try {
    await showProduct(upc);
  } catch (exc) {
    failed(exc, "Could not load the product");
  }
}

async function chooseProduct() {
  const product = await pick({ title: "Which product?" });
  if (product) goProduct(product.upc);
}

$("product-pick").addEventListener("click", chooseProduct);
$("product-suspects").addEventListener("click", () => {
  const upc = state.product;
  state.filter = { upc, name: $("product-title").textContent };
  $("filter-product-label").textContent = `${state.filter.name} (${upc})`;
  $("filter-product-clear").hidden = false;
  goSuspects(true);
});

async function goHistory(more = false) {
  show("history");
  $("screen-history").focus();
  try {
    await showHistory((text) => {
      toast(text);
      state.stale = true; // the suspects list changed behind the grid
      goHistory();
    }, more);
  } catch (exc) {
    failed(exc, "Could not load the history");
  }
}

$("moves-more").addEventListener("click", () => goHistory(true));

for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => screens[tab.dataset.screen]());
}

const screens = {
  suspects: () => goSuspects(),
  product: () => goProduct(state.product),
  history: () => goHistory(),
};

// -- keys ----------------------------------------------------------------------------------

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

// -- start ---------------------------------------------------------------------------------

if (API.who.user) {
  $("whoami").textContent = API.who.user;
  goSuspects(true);
} else {
  goSignIn();
}
