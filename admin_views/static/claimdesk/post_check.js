// Post a check: the running total of the lines' payments against the check amount, live as the biller types.
// Display only: the server adds the same amounts again (exactly, in cents) before it posts anything.
(function () {
  'use strict';
  function cents(text) {
    var clean = (text || '').replace(/[$,\s]/g, '');
    if (!/^\d+(\.\d{1,2})?$/.test(clean)) { return clean === '' ? 0 : NaN; }
    var parts = clean.split('.');
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || '') + '00').slice(0, 2), 10);
  }
  function dollars(n) {
    var sign = n < 0 ? '-' : '';
    var abs = Math.abs(n);
    var whole = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return sign + '$' + whole + '.' + ('0' + (abs % 100)).slice(-2);
  }
  function update() {
    var form = document.querySelector('form[data-post-check]');
    if (!form) { return; }
    var paid = 0;
    form.querySelectorAll('input[data-check-paid]').forEach(function (input) { paid += cents(input.value); });
    var amountInput = form.querySelector('input[data-check-amount]');
    var shown = document.querySelector('[data-total-check]');
    var check = amountInput ? cents(amountInput.value) : cents(shown ? shown.textContent : '');
    var lines = document.querySelector('[data-total-lines]');
    var diff = document.querySelector('[data-total-difference]');
    if (lines) { lines.textContent = isNaN(paid) ? 'not a number' : dollars(paid); }
    if (amountInput && shown) { shown.textContent = isNaN(check) ? 'not a number' : dollars(check); }
    if (diff) {
      var rest = check - paid;
      diff.textContent = isNaN(rest) ? '—' : dollars(rest);
      diff.className = rest === 0 ? 'text-success' : 'text-danger';
    }
  }
  document.addEventListener('input', update);
  document.addEventListener('DOMContentLoaded', update);
})();
