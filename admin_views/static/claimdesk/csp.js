// ClaimDesk pages under a Content-Security-Policy that runs no inline handlers (admin_views/headers.py).
// Our templates say what they need with data- attributes; Flask-Admin's templates still carry a few onclick
// attributes, which the server renames data-onclick (admin_views/headers.py), so their three known forms are
// given to listeners here.
(function () {
  "use strict";

  function flaskAdminHandlers() {
    document.querySelectorAll("[data-onclick]").forEach(function (el) {
      var code = el.dataset.onclick;
      var m;
      if ((m = /modelActions\.execute\('([^']+)'\)/.exec(code))) {
        el.addEventListener("click", function (e) { e.preventDefault(); window.modelActions.execute(m[1]); });
      } else if ((m = /faHelpers\.safeConfirm\('((?:[^'\\]|\\.)*)'\)/.exec(code))) {
        var message = m[1].replace(/\\(.)/g, "$1");
        el.addEventListener("click", function (e) { if (!window.confirm(message)) { e.preventDefault(); } });
      } else if ((m = /faForm\.addInlineField\(this, '([^']+)'\)/.exec(code))) {
        el.addEventListener("click", function (e) { e.preventDefault(); window.faForm.addInlineField(el, m[1]); });
      }
    });
  }

  function ours() {
    // <select data-autosubmit>: choosing submits its form (the scope picker, the payer filter).
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
    // <input type=checkbox data-select-all="name">: ticks or clears every checkbox of that name.
    document.querySelectorAll("[data-select-all]").forEach(function (box) {
      box.addEventListener("click", function () {
        document.querySelectorAll('input[name="' + box.dataset.selectAll + '"]').forEach(function (b) {
          b.checked = box.checked;
        });
      });
    });
    // <form data-confirm="question">: asks before sending.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (e) { if (!window.confirm(form.dataset.confirm)) { e.preventDefault(); } });
    });
    // <form data-disable-on-submit>: one click sends it once.
    document.querySelectorAll("form[data-disable-on-submit]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      });
    });
    // [data-width="42"]: a progress bar's width, set through the DOM (a style= attribute would be refused).
    document.querySelectorAll("[data-width]").forEach(function (el) { el.style.width = el.dataset.width + "%"; });
  }

  // Links to "javascript:void(0)" (Flask-Admin's dropdown toggles and pager) would be refused by the policy:
  // stop the navigation; Bootstrap's own handlers still run.
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest('a[href^="javascript:"]');
    if (link) { e.preventDefault(); }
  }, true);

  document.addEventListener("DOMContentLoaded", function () { flaskAdminHandlers(); ours(); });
}());
