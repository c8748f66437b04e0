// Nongzi service worker. Precaches the offline shell and the page script; every navigation
// goes to the network first and falls back to the shell. Personal pages are never cached: the
// shell holds nothing personal, and the village catalog is stored by the page under its own
// name and deleted at sign-out. (APP_JS and VERSION are set by the server above this line.)
var SHELL = 'nz-shell-' + VERSION;
var PRECACHE = ['/offline', APP_JS, '/manifest.webmanifest', '/assets/icon.svg'];

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(SHELL).then(function (c) { return c.addAll(PRECACHE); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf('nz-shell-') === 0 && k !== SHELL; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (e) {
  var r = e.request;
  if (r.method !== 'GET') return;
  var url = new URL(r.url);
  if (url.origin !== self.location.origin) return;
  if (r.mode === 'navigate') {
    e.respondWith(fetch(r).catch(function () {
      return caches.open(SHELL).then(function (c) { return c.match('/offline'); }).then(function (x) { return x || Response.error(); });
    }));
    return;
  }
  if (PRECACHE.indexOf(url.pathname) > 0) {
    e.respondWith(caches.open(SHELL).then(function (c) { return c.match(url.pathname); }).then(function (x) { return x || fetch(r); }));
    return;
  }
  if (url.pathname === '/app/catalog.json') {
    e.respondWith(fetch(r).catch(function () {
      return caches.open('nz-data').then(function (c) { return c.match('/app/catalog.json'); }).then(function (x) { return x || Response.error(); });
    }));
  }
});

self.addEventListener('message', function (e) {
  if (e.data === 'refresh-shell') caches.open(SHELL).then(function (c) { return c.add('/offline'); }).catch(function () {});
});

// Background Sync: ask the open pages to send the outbox (they hold the session's token).
self.addEventListener('sync', function (e) {
  if (e.tag === 'outbox') {
    e.waitUntil(self.clients.matchAll({ includeUncontrolled: true }).then(function (cs) { cs.forEach(function (c) { c.postMessage('flush'); }); }));
  }
});
