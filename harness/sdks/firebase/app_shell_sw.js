// The app's service worker, as an installed web app has one: it keeps the app shell (the page and the SDK's
// scripts) so the app opens without the network -- the only way a page can be reloaded offline and the SDK start
// at all, which is what firebase-js-sdk#7118 needs (opening the app offline). Page and scripts are fetched from the
// network first and served from the cache only when the network fails; every other request (the SDK's Auth calls,
// the app's /api/me) is left to the browser untouched. The shell's URLs come in the registration's `shell` query.
const CACHE = 'harness-app-shell-v1';
const shell = JSON.parse(new URL(self.location.href).searchParams.get('shell') || '[]');
self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(shell)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (event) => { event.waitUntil(self.clients.claim()); });
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (event.request.mode !== 'navigate' && !shell.includes(url.pathname)) return;
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) { const copy = response.clone(); caches.open(CACHE).then((cache) => cache.put(url.pathname, copy)); }
    return response;
  }).catch(() => caches.match(url.pathname).then((hit) => hit || Response.error())));
});
