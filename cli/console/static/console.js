// The console's only script, served as a file (the Content-Security-Policy allows no inline script).
// A page whose body says data-refresh="N" reloads itself every N seconds, unless it is hidden or the reader has
// opened something on it.
'use strict';
(function () {
  var seconds = Number(document.body && document.body.getAttribute('data-refresh'));
  if (!seconds) return;
  setInterval(function () {
    if (document.hidden || document.querySelector('details[open]')) return;
    window.location.reload();
  }, seconds * 1000);
})();
