// danvan service worker. The server fills in VERSION (a hash of the whole build) and ASSETS (every
// file of the build), so a new build always gets a new cache and the old one is dropped.
const VERSION = "__VERSION__";
const CACHE = "danvan-shell-" + VERSION;
const ASSETS = __ASSETS__;

self.addEventListener("install", (event) => {
  // No skipWaiting: the page shows "Có phiên bản mới — tải lại" and the user decides when to switch.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("danvan-shell-") && key !== CACHE) await caches.delete(key);
    }
    // Control the page that installed us, so it keeps working if the network drops right away.
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    // Every app route is the same shell; answering from the cache never makes the user wait on the
    // network. Updates arrive through a new worker, not through this response.
    event.respondWith((async () => {
      const cache = await caches.open(CACHE);
      return (await cache.match("/index.html")) || fetch(request);
    })());
    return;
  }
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    return (await cache.match(request)) || fetch(request);
  })());
});
