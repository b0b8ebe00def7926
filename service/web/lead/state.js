// What the desk knows beyond the grid: filters, the next page, the undo stack, the screen.

// Tiles per page: ?page=N (4 to 200; tests, small screens), else 24.
export const PAGE = (() => {
  const n = Number(new URLSearchParams(location.search).get("page"));
  return Number.isInteger(n) && n >= 4 && n <= 200 ? n : 24;
})();

export const state = {
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
