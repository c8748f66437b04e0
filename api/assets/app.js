// Nongzi page script: optional. Pages work without it; it adds the offline catalog and outbox,
// live order updates, the camera scanner and a guard against double taps.
(function () {
  'use strict';
  var d = document, w = window, ls = w.localStorage;
  var zh = (d.documentElement.lang || 'zh').indexOf('zh') === 0;
  function t(a, b) { return zh ? a : b; }
  function $(s, r) { return (r || d).querySelector(s); }
  function el(tag, attrs, text) {
    var e = d.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function yuan(f) { return '¥' + (Math.floor(f / 100)) + '.' + ('0' + (f % 100)).slice(-2); }
  function uuid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }
  var meta = $('meta[name=csrf]');
  var csrf = meta && meta.content;
  // Set on pages of a signed-in farmer (or a keeper acting for one): only they have a catalog.
  var farmer = d.documentElement.hasAttribute('data-farmer');
  var online = !$('#offline-app');
  if (csrf && online) { try { ls.setItem('nz-csrf', csrf); } catch (e) {} }

  // Service worker: the offline shell; refresh it when the language changes.
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').then(function () {
      var lang = d.documentElement.lang;
      if (online && ls.getItem('nz-shell-lang') !== lang && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage('refresh-shell');
        ls.setItem('nz-shell-lang', lang);
      }
    }).catch(function () {});
    navigator.serviceWorker.addEventListener('message', function (e) { if (e.data === 'flush') flush(); });
  }

  // The village catalog snapshot, kept in the Cache API for offline browsing.
  function saveCatalog(always) {
    if (!(farmer || always) || !w.caches) return Promise.resolve();
    return caches.open('nz-data').then(function (c) {
      return c.match('/app/catalog.json').then(function (have) {
        // The ETag is only worth sending when the cache really holds the snapshot it names.
        var etag = have && ls.getItem('nz-cat-etag');
        var headers = etag ? { 'If-None-Match': etag } : {};
        return fetch('/app/catalog.json', { credentials: 'same-origin', headers: headers }).then(function (r) {
          if (r.status === 304) return;
          var json = (r.headers.get('Content-Type') || '').indexOf('application/json') === 0;
          if (!r.ok || r.redirected || !json) throw new Error('no catalog');
          var tag = r.headers.get('ETag') || '';
          return c.put('/app/catalog.json', r).then(function () { ls.setItem('nz-cat-etag', tag); });
        });
      });
    }).then(function () { d.documentElement.setAttribute('data-catalog', 'saved'); }).catch(function () {});
  }
  function loadCatalog() {
    if (!w.caches) return Promise.resolve(null);
    return caches.open('nz-data').then(function (c) { return c.match('/app/catalog.json'); })
      .then(function (r) { return r ? r.json() : null; });
  }

  // The outbox: queued orders in IndexedDB, each with its own idempotency key.
  function db() {
    return new Promise(function (ok, bad) {
      var r = indexedDB.open('nz', 1);
      r.onupgradeneeded = function () { r.result.createObjectStore('outbox', { keyPath: 'key' }); };
      r.onsuccess = function () { ok(r.result); };
      r.onerror = function () { bad(r.error); };
    });
  }
  function tx(mode, fn) {
    return db().then(function (x) {
      return new Promise(function (ok, bad) {
        var s = x.transaction('outbox', mode).objectStore('outbox');
        var r = fn(s);
        s.transaction.oncomplete = function () { ok(r && r.result); };
        s.transaction.onerror = function () { bad(s.transaction.error); };
      });
    });
  }
  function all() { return w.indexedDB ? tx('readonly', function (s) { return s.getAll(); }) : Promise.resolve([]); }
  function put(o) { return tx('readwrite', function (s) { return s.put(o); }); }

  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine || !w.indexedDB) return Promise.resolve();
    flushing = true;
    return all().then(function (items) {
      var todo = (items || []).filter(function (o) { return o.state === 'queued' || o.state === 'sending'; });
      return todo.reduce(function (p, o) { return p.then(function () { return send(o); }); }, Promise.resolve());
    }).catch(function () {}).then(function () { flushing = false; renderOutbox(); });
  }
  function send(o) {
    o.state = 'sending';
    return put(o).then(renderOutbox).then(function () {
      return fetch('/app/outbox', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': ls.getItem('nz-csrf') || '' },
        body: JSON.stringify(o.order)
      });
    }).then(function (r) {
      return r.json().then(function (j) {
        o.state = j.state === 'placed' || j.state === 'refused' ? j.state : 'queued';
        o.reason = j.reason || '';
        o.orders = j.orders || [];
        return put(o);
      });
    }, function () { o.state = 'queued'; return put(o); });
  }

  function renderOutbox() {
    var box = $('#outbox');
    if (!box) return Promise.resolve();
    return all().then(function (items) {
      box.textContent = '';
      if (!items || !items.length) { box.appendChild(el('p', { 'class': 'muted small' }, t('没有待发送的订单。', 'Nothing queued.'))); return; }
      items.sort(function (a, b) { return b.created - a.created; }).forEach(function (o) {
        var words = { queued: t('排队中，有信号后发送', 'Queued: sent when online'), sending: t('正在发送…', 'Sending…'),
          placed: t('已下单', 'Placed'), refused: t('未能下单', 'Refused') }[o.state];
        var c = el('div', { 'class': 'card', 'data-test': 'outbox-item', 'data-state': o.state, 'data-key': o.key });
        c.appendChild(el('strong', null, words));
        c.appendChild(el('div', { 'class': 'small' }, o.summary));
        if (o.reason) c.appendChild(el('div', { 'class': o.state === 'refused' ? 'alert' : 'small' }, o.reason));
        (o.orders || []).forEach(function (x) { var a = el('a', { href: x.url }, t('查看订单 #', 'Order #') + x.id); c.appendChild(a); c.appendChild(d.createTextNode(' ')); });
        box.appendChild(c);
      });
    });
  }

  // The offline page: browse and search the snapshot, draft and queue an order.
  function offlineApp(root) {
    var draft = {};
    var cat = null;
    var list = $('#off-list'), q = $('#off-q');
    function draw() {
      list.textContent = '';
      if (!cat) { list.appendChild(el('p', { 'class': 'card' }, t('这部手机还没有保存本村农资目录：有信号时登录并打开一次首页。', 'No catalog saved on this phone yet: sign in and open the home page once with signal.'))); return; }
      var words = (q.value || '').trim().toLowerCase();
      var shown = cat.products.filter(function (p) {
        var hay = [p.zh, p.en, p.reg || '', p.words || ''].join(' ').toLowerCase();
        return !words || hay.indexOf(words) >= 0;
      });
      $('#off-meta').textContent = shown.length + t(' 种产品 · ', ' products · ') + (zh ? cat.village.zh : cat.village.en);
      shown.slice(0, 60).forEach(function (p) {
        var c = el('section', { 'class': 'card', 'data-test': 'offline-product' });
        c.appendChild(el('strong', null, zh ? p.zh : p.en));
        if (p.reg) c.appendChild(el('div', { 'class': 'small muted' }, p.reg));
        p.offers.forEach(function (o) {
          var dealer = cat.dealers.filter(function (x) { return x.id === o.dealer; })[0] || {};
          c.appendChild(el('div', { 'class': 'small' }, o.pack + ' · ' + (zh ? dealer.zh : dealer.en)));
          var row = el('div', { 'class': 'row spread' });
          row.appendChild(el('span', { 'class': 'price' }, yuan(o.priceFen)));
          c.appendChild(row);
          if (p.restricted) { row.appendChild(el('span', { 'class': 'small out' }, t('限制使用农药须实名，不能离线下单', 'Restricted use: order online with your real name'))); return; }
          if (o.available <= 0) { row.appendChild(el('span', { 'class': 'out' }, t('缺货', 'Out of stock'))); return; }
          var b = el('button', { type: 'button', 'class': 'alt', 'data-test': 'offline-add', 'data-offer': o.id }, t('加入离线订单', 'Add to queued order'));
          b.onclick = function () {
            var key = String(o.id);
            draft[key] = draft[key] || { offer: o.id, qty: 0, priceFen: o.priceFen, name: (zh ? p.zh : p.en) + ' ' + o.pack };
            draft[key].qty += 1; drawDraft();
          };
          row.appendChild(b);
        });
        list.appendChild(c);
      });
    }
    function drawDraft() {
      var keys = Object.keys(draft), box = $('#off-lines');
      $('#off-draft').hidden = !keys.length;
      box.textContent = '';
      keys.forEach(function (k) {
        var line = el('div', { 'class': 'row spread' });
        line.appendChild(el('span', null, draft[k].name + ' × ' + draft[k].qty + ' = ' + yuan(draft[k].qty * draft[k].priceFen)));
        var less = el('button', { type: 'button', 'class': 'alt', 'aria-label': t('减少一件：', 'One less: ') + draft[k].name }, '−1');
        less.onclick = function () { if (--draft[k].qty <= 0) delete draft[k]; drawDraft(); };
        line.appendChild(less);
        box.appendChild(line);
      });
    }
    q.addEventListener('input', draw);
    var params = new URLSearchParams(location.search);
    if (params.get('q')) q.value = params.get('q');
    $('#off-queue').onclick = function () {
      var keys = Object.keys(draft);
      if (!keys.length) return;
      var st = cat.stations[0];
      var delivery = $('#off-delivery').value;
      var order = {
        key: uuid(), delivery: delivery, station: delivery === 'VILLAGE_STATION' && st ? st.id : null,
        payment: $('#off-payment').value,
        lines: keys.map(function (k) { return { offer: draft[k].offer, qty: draft[k].qty, priceFen: draft[k].priceFen }; })
      };
      var summary = keys.map(function (k) { return draft[k].name + ' × ' + draft[k].qty; }).join('；');
      put({ key: order.key, order: order, summary: summary, state: 'queued', created: Date.now() }).then(function () {
        draft = {}; drawDraft(); renderOutbox();
        if (navigator.serviceWorker && navigator.serviceWorker.ready) {
          navigator.serviceWorker.ready.then(function (r) { if (r.sync) r.sync.register('outbox').catch(function () {}); });
        }
        flush();
      });
    };
    function netState() {
      $('#net-state').textContent = navigator.onLine ? t('有信号：排队的订单会立即发送。', 'Online: queued orders are sent now.')
        : t('没有信号：可以浏览和排队下单，有信号后自动发送。', 'No signal: browse and queue orders; they are sent when the signal returns.');
    }
    w.addEventListener('offline', netState);
    w.addEventListener('online', netState);
    netState();
    (navigator.onLine ? saveCatalog(true) : Promise.resolve()).then(loadCatalog).then(function (c) { cat = c; draw(); }).catch(draw);
  }

  function live() {
    var p = $('[data-poll]');
    if (!p) return;
    var url = p.getAttribute('data-poll'), seen = p.getAttribute('data-updated');
    setInterval(function () {
      if (d.hidden || !navigator.onLine) return;
      fetch(url, { credentials: 'same-origin' }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) { if (j && j.updatedAt !== seen) location.reload(); }).catch(function () {});
    }, 8000);
  }

  // Opt-in only: the browser's position, rounded by the server to about 1 km, goes with the
  // code so a bag far from the dealer that sold it can be noticed.
  function where() {
    var box = $('#scan-loc');
    if (!box || !navigator.geolocation) return;
    $('#scan-loc-row').hidden = false;
    box.onchange = function () {
      if (!box.checked) { $('#scan-lat').value = ''; $('#scan-lon').value = ''; return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        $('#scan-lat').value = p.coords.latitude.toFixed(2); $('#scan-lon').value = p.coords.longitude.toFixed(2);
      }, function () { box.checked = false; }, { maximumAge: 600000, timeout: 10000 });
    };
  }
  function whereQuery() {
    var a = $('#scan-lat'), b = $('#scan-lon');
    return a && b && a.value && b.value ? '&lat=' + a.value + '&lon=' + b.value : '';
  }

  function scanner() {
    var start = $('#scan-start');
    if (!start || !('BarcodeDetector' in w) || !navigator.mediaDevices) return;
    start.hidden = false;
    start.onclick = function () {
      var det = new w.BarcodeDetector({ formats: ['qr_code', 'data_matrix', 'code_128', 'ean_13'] });
      var v = $('#scan-video');
      navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } }).then(function (s) {
        $('#scanner').hidden = false; start.hidden = true; v.srcObject = s; v.play();
        (function loop() {
          det.detect(v).then(function (codes) {
            if (codes.length) { s.getTracks().forEach(function (x) { x.stop(); }); location.href = '/scan?code=' + encodeURIComponent(codes[0].rawValue) + whereQuery(); }
            else requestAnimationFrame(loop);
          }).catch(function () { requestAnimationFrame(loop); });
        })();
      }).catch(function () { $('#scan-msg').textContent = t('无法打开摄像头，请输入追溯码。', 'The camera is not available: type the code.'); $('#scanner').hidden = false; });
    };
  }

  d.addEventListener('submit', function (e) {
    var f = e.target;
    if (f.hasAttribute('data-confirm') && !w.confirm(f.getAttribute('data-confirm'))) { e.preventDefault(); return; }
    if (f.hasAttribute('data-logout')) {
      e.preventDefault();
      all().then(function (items) {
        var left = (items || []).filter(function (o) { return o.state === 'queued' || o.state === 'sending'; }).length;
        if (left && !w.confirm(t('还有 ' + left + ' 个订单没有发送，退出后会被删除。确定退出吗？', left + ' queued order(s) have not been sent and will be deleted. Sign out anyway?'))) return;
        var jobs = [];
        if (w.caches) jobs.push(caches.delete('nz-data'));
        if (w.indexedDB) jobs.push(new Promise(function (ok) { var r = indexedDB.deleteDatabase('nz'); r.onsuccess = r.onerror = r.onblocked = ok; }));
        ['nz-csrf', 'nz-cat-etag'].forEach(function (k) { ls.removeItem(k); });
        Promise.all(jobs).then(function () { f.submit(); }, function () { f.submit(); });
      }, function () { f.submit(); });
      return;
    }
    if (f.hasAttribute('data-once')) {
      if (f.getAttribute('data-sent')) { e.preventDefault(); return; }
      f.setAttribute('data-sent', '1');
    }
  });

  w.addEventListener('online', flush);
  var root = $('#offline-app');
  if (root) offlineApp(root); else saveCatalog();
  renderOutbox(); flush(); live(); where(); scanner();
})();
