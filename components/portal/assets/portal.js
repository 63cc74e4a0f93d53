// Optional: the pages work without it. Counts characters and warns of a photo too large
// before it is sent over a slow connection.
(function () {
  var max = 5 * 1024 * 1024;
  document.querySelectorAll('textarea[maxlength]').forEach(function (t) {
    var c = document.createElement('span');
    c.className = 'counter';
    c.setAttribute('aria-live', 'polite');
    t.insertAdjacentElement('afterend', c);
    var show = function () { c.textContent = t.value.length + ' / ' + t.getAttribute('maxlength'); };
    t.addEventListener('input', show);
    show();
  });
  document.querySelectorAll('input[type=file][data-too-large]').forEach(function (f) {
    f.addEventListener('change', function () {
      var big = f.files && f.files[0] && f.files[0].size > max;
      f.setCustomValidity(big ? f.getAttribute('data-too-large') : '');
      f.reportValidity();
    });
  });
  document.querySelectorAll('select[data-template-for]').forEach(function (s) {
    s.addEventListener('change', function () {
      var t = document.getElementById(s.getAttribute('data-template-for'));
      if (t && s.value && !t.value.trim()) { t.value = s.value; t.dispatchEvent(new Event('input')); }
    });
  });
})();
