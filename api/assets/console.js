// Nongzi console script: print buttons (no inline handlers under the CSP), the camera scanner
// of the bureau's trace page, and the live
// counters in the menu (new orders, stock alerts), read from /dealer/live.json every 20 s while
// the page is visible. Pages work without it; a reload shows the same numbers.
(function () {
  'use strict';
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-print]');
    if (b) { e.preventDefault(); window.print(); }
  });
  // The bureau's trace page: read a QR code or barcode with the camera where the browser can
  // (BarcodeDetector), and look the code up; a handheld scanner types into the box instead.
  var scan = document.getElementById('scan-start');
  if (scan && 'BarcodeDetector' in window && navigator.mediaDevices) {
    scan.hidden = false;
    scan.addEventListener('click', function () {
      var det = new window.BarcodeDetector({ formats: ['qr_code', 'data_matrix', 'code_128', 'ean_13'] });
      var v = document.getElementById('scan-video');
      navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } }).then(function (s) {
        document.getElementById('scanner').hidden = false; v.srcObject = s; v.play();
        (function loop() {
          det.detect(v).then(function (codes) {
            if (codes.length) { s.getTracks().forEach(function (x) { x.stop(); }); location.href = scan.getAttribute('data-scan-to') + encodeURIComponent(codes[0].rawValue); }
            else requestAnimationFrame(loop);
          }).catch(function () { requestAnimationFrame(loop); });
        })();
      }).catch(function () { document.getElementById('scan-fail').hidden = false; });
    });
  }
  var seen = null;
  function show(el, n) {
    el.textContent = n > 0 ? String(n) : '';
    el.hidden = !(n > 0);
  }
  function poll() {
    if (document.hidden) return;
    fetch('/dealer/live.json', { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d) return;
        document.querySelectorAll('[data-live]').forEach(function (el) {
          var n = d[el.getAttribute('data-live')];
          if (typeof n === 'number') show(el, n);
        });
        var latest = d.latest_order || 0;
        if (seen !== null && latest > seen) {
          var note = document.querySelector('[data-live-note]');
          var t = document.querySelector('template[data-i18n=new_orders]');
          if (note && t) {
            note.querySelector('[data-live-text]').textContent = t.content.textContent;
            note.hidden = false;
          }
          document.dispatchEvent(new CustomEvent('nz:new-orders', { detail: d }));
        }
        if (seen === null || latest > seen) seen = latest;
      })
      .catch(function () {});
  }
  // On the desk, a new order replaces the list in place (same URL, same filters).
  document.addEventListener('nz:new-orders', function () {
    var list = document.querySelector('[data-desk-list]');
    if (!list || !window.DOMParser) return;
    fetch(location.href, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('[data-desk-list]');
        if (fresh) list.innerHTML = fresh.innerHTML;
      })
      .catch(function () {});
  });
  if (document.querySelector('[data-live]')) {
    poll();
    setInterval(poll, 20000);
    document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });
  }
})();
