// Fast pictures: thumbnails are fixed-size JPEGs the server caches and browsers keep for a
// year (their URLs carry the image's content hash), and the next page's are fetched ahead.

const warm = new Set();

// Resolves once every picture has arrived (or failed): they are in the browser's cache then.
export function prefetch(urls) {
  const waits = [];
  for (const url of urls) {
    if (!url || warm.has(url)) continue;
    warm.add(url);
    const img = new Image();
    img.decoding = "async";
    waits.push(new Promise((resolve) => {
      img.onload = img.onerror = resolve;
    }));
    img.src = url;
  }
  return Promise.all(waits);
}

export function thumb(url, alt, size = "tile") {
  const img = document.createElement("img");
  img.src = url;
  img.alt = alt;
  img.decoding = "async";
  img.loading = "lazy";
  img.className = `thumb ${size}`;
  img.width = 240;
  img.height = 240;
  return img;
}
