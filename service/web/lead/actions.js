// What the lead does to the selected tiles (or the focused one): accept the suggestion, keep,
// QA first, move to any product; each action goes onto an undo stack and U takes back the
// last one, all its tiles. Every change names the version the tile showed; a 409 (someone else
// changed it) reloads the list.

import * as API from "./api.js";
import { grid, renderBar } from "./bar.js";
import { pick } from "./picker.js";
import { state } from "./state.js";
import { loadSuspects, topUp } from "./suspects.js";
import { $, banner, failed, toast } from "./ui.js";

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

export function accept() {
  const tiles = grid.targets().filter((t) => t.suggested);
  if (!tiles.length) return toast("No suggestion to accept here");
  apply("move", "Moved", tiles, (t) =>
    API.change(t.snapshot_id, t.version, { product_upc: t.suggested.upc, reason: "suggestion accepted" }),
  { removes: true });
}

export function keep() {
  apply("keep", "Kept", grid.targets(), (t) => API.change(t.snapshot_id, t.version, { reviewed: true }), {
    removes: true,
  });
}

export function qaFirst() {
  const tiles = grid.targets();
  const pending = tiles.filter((t) => t.status === "pending" && !t.qa_first);
  if (!pending.length) return toast("Only pending snapshots go to QA (and these already are first)");
  apply("qa", "Sent to QA first:", pending, (t) => API.change(t.snapshot_id, t.version, { qa_first: true }), {
    removes: false,
  });
}

export async function moveTo() {
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

// Take back one tile's part of an action.
function undoOne(kind, item) {
  if (kind === "move") return API.undoMove(item.tile.snapshot_id, item.version);
  if (kind === "keep") return API.change(item.tile.snapshot_id, item.version, { reviewed: false });
  return API.change(item.tile.snapshot_id, item.version, { qa_first: false });
}

export async function undo() {
  const last = state.undo[state.undo.length - 1];
  if (!last || state.busy) return;
  state.busy = true;
  renderBar();
  const back = [];
  let problem = null;
  for (const item of [...last.items].reverse()) {
    try {
      back.push({ ...item, snapshot: await undoOne(last.kind, item) });
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
