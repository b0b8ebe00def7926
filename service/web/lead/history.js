// The history screen: recent moves of every snapshot, latest first, with the QA state each
// held when it was moved; a move that still stands can be undone from here.

import { moves, snapshot, undoMove } from "./api.js";
import { thumb } from "./images.js";

const $ = (id) => document.getElementById(id);
let cursor = null;

function when(iso) {
  const date = new Date(iso);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function row(move, onUndone) {
  const item = document.createElement("li");
  item.className = `move ${move.kind}${move.undone_by ? " undone" : ""}`;
  item.dataset.moveId = move.move_id;
  item.dataset.snapshotId = move.snapshot_id;
  item.append(thumb(move.thumb_url, `Snapshot ${move.snapshot_id}`, "mini"));
  const route = document.createElement("div");
  route.className = "route";
  route.append(
    thumb(move.from_product.thumb_url, `From ${move.from_product.name}`, "chip"),
    Object.assign(document.createElement("span"), { className: "arrow", textContent: "→" }),
    thumb(move.to_product.thumb_url, `To ${move.to_product.name}`, "chip"),
  );
  const text = document.createElement("div");
  text.className = "text";
  const title = document.createElement("p");
  title.className = "title";
  title.textContent = `${move.kind === "undo" ? "Undo: " : ""}#${move.snapshot_id} ${move.from_product.name} → ${move.to_product.name}`;
  const meta = document.createElement("p");
  meta.className = "muted";
  const held = move.held;
  const verdicts = held.verdicts.map((v) => `${v.username} ${v.is_match ? "✓" : "✗"}`).join(", ");
  meta.textContent =
    `${move.moved_by}, ${when(move.moved_at)} · held: ${held.status} ✓${held.votes.match} ✗${held.votes.mismatch}` +
    (verdicts ? ` (${verdicts})` : "") +
    (held.released ? ` · ${held.released} reservation${held.released === 1 ? "" : "s"} released` : "") +
    ` · QA: ${move.qa_outcome}` + (move.undone_by ? " · undone" : "");
  text.append(title, meta);
  if (move.reason) {
    const reason = document.createElement("p");
    reason.className = "reason";
    reason.textContent = `“${move.reason}”`;
    text.append(reason);
  }
  item.append(route, text);
  if (move.kind === "move" && !move.undone_by) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Undo";
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const current = await snapshot(move.snapshot_id);
        await undoMove(move.snapshot_id, current.version);
        onUndone(`Move of #${move.snapshot_id} undone`);
      } catch (exc) {
        onUndone(`Could not undo: ${exc.message}`);
        button.disabled = false;
      }
    });
    item.append(button);
  }
  return item;
}

export async function showHistory(onUndone, more = false) {
  const list = $("moves");
  const screen = $("screen-history");
  screen.dataset.ready = "false";
  if (!more) cursor = null;
  const page = await moves(cursor);
  const rows = page.items.map((m) => row(m, onUndone));
  if (more) list.append(...rows);
  else list.replaceChildren(...rows);
  cursor = page.next_cursor;
  $("moves-more").hidden = !cursor;
  $("moves-empty").hidden = list.children.length > 0;
  screen.dataset.ready = "true";
}
