// The suspects grid: tiles, the focused one, the selection (Space, Shift with arrows or a
// click), and the rows the arrow keys walk. Knows nothing of the API.

import { thumb } from "./images.js";

const fmt = (n) => (Math.round(n * 100) / 100).toFixed(2);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function packshot(product, role, extra) {
  const figure = el("figure", `pack ${role}`);
  figure.append(thumb(product.thumb_url, `${role === "suggested" ? "Suggested" : "Attributed"}: ${product.name}`, "pack"));
  const caption = el("figcaption");
  caption.append(el("span", "name", product.name));
  if (extra) caption.append(el("span", "score", extra));
  figure.append(caption);
  return figure;
}

export function renderTile(tile) {
  const node = el("article", "tile");
  node.id = `tile-${tile.snapshot_id}`;
  node.dataset.snapshotId = tile.snapshot_id;
  node.setAttribute("role", "gridcell");
  node.tabIndex = -1;
  const photo = el("div", "photo");
  photo.append(thumb(tile.thumb_url, `Snapshot ${tile.snapshot_id}`, "photo"));
  const badges = el("div", "badges");
  badges.append(el("span", `status ${tile.status}`, tile.status));
  if (tile.qa_first) badges.append(el("span", "badge qa-first", "QA first"));
  if (tile.moves) badges.append(el("span", "badge moved", `moved ${tile.moves}×`));
  photo.append(badges);
  node.append(photo);
  const pair = el("div", "pair");
  pair.append(packshot(tile.product, "attributed"));
  pair.append(el("span", "arrow", "→"));
  if (tile.suggested) pair.append(packshot(tile.suggested, "suggested", fmt(tile.suggested.score)));
  else pair.append(el("p", "muted none", "no suggestion"));
  node.append(pair);
  const meta = el("p", "meta");
  meta.append(el("span", "votes", `✓ ${tile.votes.match}  ✗ ${tile.votes.mismatch}`));
  meta.append(el("span", "suspicion", `suspicion ${fmt(tile.suspicion)}`));
  node.append(meta);
  node.setAttribute(
    "aria-label",
    `Snapshot ${tile.snapshot_id}, ${tile.status}, attributed to ${tile.product.name}` +
      (tile.suggested ? `, looks like ${tile.suggested.name} (${fmt(tile.suggested.score)})` : "") +
      `, ${tile.votes.match} match and ${tile.votes.mismatch} mismatch votes`,
  );
  return node;
}

export class Grid {
  constructor(root, onChange) {
    this.root = root;
    this.onChange = onChange;
    this.tiles = [];
    this.focus = 0;
    this.anchor = null;
    this.selected = new Set();
    root.addEventListener("click", (event) => this.clicked(event));
  }

  reset(tiles) {
    this.tiles = [...tiles];
    this.focus = 0;
    this.anchor = null;
    this.selected.clear();
    this.render();
  }

  append(tiles) {
    const known = new Set(this.tiles.map((t) => t.snapshot_id));
    this.tiles.push(...tiles.filter((t) => !known.has(t.snapshot_id)));
    this.render();
  }

  get current() {
    return this.tiles[this.focus] || null;
  }

  // What an action acts on: the selection in grid order, else the focused tile.
  targets() {
    if (this.selected.size) return this.tiles.filter((t) => this.selected.has(t.snapshot_id));
    return this.current ? [this.current] : [];
  }

  indexOf(id) {
    return this.tiles.findIndex((t) => t.snapshot_id === id);
  }

  remove(ids) {
    const gone = new Set(ids);
    const focusId = this.current && this.current.snapshot_id;
    let next = this.focus;
    if (focusId !== null && gone.has(focusId)) {
      // focus the first tile after the removed one that stays, else the one before
      const after = this.tiles.slice(this.focus).find((t) => !gone.has(t.snapshot_id));
      const kept = this.tiles.filter((t) => !gone.has(t.snapshot_id));
      next = after ? kept.indexOf(after) : kept.length - 1;
      this.tiles = kept;
    } else {
      this.tiles = this.tiles.filter((t) => !gone.has(t.snapshot_id));
      next = focusId === null ? 0 : this.indexOf(focusId);
    }
    for (const id of ids) this.selected.delete(id);
    this.focus = Math.max(0, next);
    this.anchor = null;
    this.render();
  }

  // Put tiles back (an undo) where they were, as far as the grid still allows.
  restore(items) {
    for (const { tile, index } of [...items].sort((a, b) => a.index - b.index)) {
      if (this.indexOf(tile.snapshot_id) >= 0) continue;
      this.tiles.splice(Math.min(index, this.tiles.length), 0, tile);
    }
    const places = items.map((i) => this.indexOf(i.tile.snapshot_id)).filter((i) => i >= 0);
    if (places.length) this.focus = Math.min(...places);
    this.render();
  }

  update(id, fields) {
    const index = this.indexOf(id);
    if (index < 0) return;
    this.tiles[index] = { ...this.tiles[index], ...fields };
    const old = this.root.children[index];
    const fresh = this.decorate(renderTile(this.tiles[index]), index);
    old.replaceWith(fresh);
    if (index === this.focus && this.root.contains(document.activeElement)) fresh.focus();
  }

  decorate(node, index) {
    const id = this.tiles[index].snapshot_id;
    node.setAttribute("aria-selected", this.selected.has(id) ? "true" : "false");
    node.classList.toggle("selected", this.selected.has(id));
    node.classList.toggle("focused", index === this.focus);
    node.tabIndex = index === this.focus ? 0 : -1;
    return node;
  }

  render() {
    const hadFocus = this.root.contains(document.activeElement) || document.activeElement === this.root;
    this.root.replaceChildren(...this.tiles.map((t, i) => this.decorate(renderTile(t), i)));
    this.focus = Math.min(this.focus, Math.max(0, this.tiles.length - 1));
    this.paint(hadFocus);
    this.onChange();
  }

  // Selection and focus classes only (no rebuild).
  paint(takeFocus = true) {
    [...this.root.children].forEach((node, i) => this.decorate(node, i));
    const node = this.root.children[this.focus];
    if (node && takeFocus) {
      node.focus({ preventScroll: true });
      node.scrollIntoView({ block: "nearest" });
    }
    this.root.dataset.focusId = this.current ? this.current.snapshot_id : "";
    this.root.dataset.selected = [...this.selected].join(",");
  }

  columns() {
    const nodes = [...this.root.children];
    if (nodes.length < 2) return 1;
    const top = nodes[0].offsetTop;
    const count = nodes.findIndex((n) => n.offsetTop !== top);
    return count < 0 ? nodes.length : count;
  }

  // Arrow keys: move the focus; with Shift, select every tile on the way.
  step(key, extend) {
    if (!this.tiles.length) return;
    const cols = this.columns();
    const delta = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols }[key];
    const from = this.focus;
    const to = Math.min(this.tiles.length - 1, Math.max(0, from + delta));
    if (extend) {
      if (this.anchor === null) this.anchor = from;
      this.selectRange(this.anchor, to);
    } else {
      this.anchor = null;
    }
    this.focus = to;
    this.paint();
    this.onChange();
  }

  selectRange(a, b) {
    const [lo, hi] = a < b ? [a, b] : [b, a];
    this.selected.clear();
    for (let i = lo; i <= hi; i += 1) this.selected.add(this.tiles[i].snapshot_id);
  }

  toggle(index = this.focus) {
    const tile = this.tiles[index];
    if (!tile) return;
    if (this.selected.has(tile.snapshot_id)) this.selected.delete(tile.snapshot_id);
    else this.selected.add(tile.snapshot_id);
    this.anchor = index;
    this.focus = index;
    this.paint();
    this.onChange();
  }

  clear() {
    this.selected.clear();
    this.anchor = null;
    this.paint();
    this.onChange();
  }

  clicked(event) {
    const node = event.target.closest(".tile");
    if (!node) return;
    const index = this.indexOf(Number(node.dataset.snapshotId));
    if (index < 0) return;
    if (event.shiftKey) {
      this.selectRange(this.anchor ?? this.focus, index);
      this.focus = index;
      this.paint();
      this.onChange();
    } else {
      this.toggle(index);
    }
  }
}
