// The staff pages' keyboard and small comforts; htmx does the rest. No inline
// script anywhere: the Content-Security-Policy stays strict.
(function () {
  "use strict";

  function typing(event) {
    var target = event.target;
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll(".queue-row"));
  }

  function selected() {
    return document.querySelector(".queue-row.selected");
  }

  function select(row) {
    var old = selected();
    if (old) { old.classList.remove("selected"); }
    if (row) {
      row.classList.add("selected");
      row.scrollIntoView({ block: "nearest" });
      sessionStorage.setItem("staff-selected", row.dataset.lead);
    }
  }

  function step(by) {
    var all = rows();
    if (!all.length) { return; }
    var index = all.indexOf(selected());
    var next = index < 0 ? 0 : Math.min(Math.max(index + by, 0), all.length - 1);
    select(all[next]);
  }

  function openSelected(hash) {
    var row = selected();
    var link = row && row.querySelector(".lead-link");
    if (link) { window.location.href = link.href + (hash || ""); }
  }

  function assignToMe() {
    var row = selected();
    var form = document.querySelector("form.bulk");
    if (!row || !form) { return; }
    var box = row.querySelector("input[name=lead]");
    form.querySelectorAll("input[name=lead]").forEach(function (other) { other.checked = other === box; });
    form.querySelector("select[name=action]").value = "assign_me";
    form.requestSubmit();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) { return; }
    var onQueue = rows().length > 0;
    switch (event.key) {
      case "j": if (onQueue) { step(1); event.preventDefault(); } break;
      case "k": if (onQueue) { step(-1); event.preventDefault(); } break;
      case "Enter": if (onQueue && selected()) { openSelected(); event.preventDefault(); } break;
      case "m": if (onQueue) { assignToMe(); event.preventDefault(); } break;
      case "c":
        if (onQueue) { openSelected("#call-action"); }
        else {
          var call = document.querySelector("#call-action input");
          if (call) { document.getElementById("call-action").open = true; call.focus(); }
        }
        event.preventDefault();
        break;
      case "/":
        var search = document.querySelector("input[name=q]");
        if (search) { search.focus(); event.preventDefault(); }
        break;
    }
  });

  // The row chosen last stays chosen when the list refreshes itself.
  function restore() {
    var code = sessionStorage.getItem("staff-selected");
    if (!code) { return; }
    var row = document.querySelector('.queue-row[data-lead="' + code + '"]');
    if (row) { row.classList.add("selected"); }
  }
  document.addEventListener("DOMContentLoaded", restore);
  document.addEventListener("htmx:afterSwap", restore);

  // The queue refreshes itself only while someone can see it. (Here, not in an
  // hx-trigger filter: htmx would have to eval that, which its config and the
  // Content-Security-Policy forbid.)
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (document.visibilityState !== "visible" &&
        event.detail.elt.hasAttribute("data-refresh-while-visible")) {
      event.preventDefault();
    }
  });

  // The language menu changes the language at once.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-submit-on-change]")) { event.target.form.submit(); }
  });

  // A lead page opened with #call-action focuses the call form.
  document.addEventListener("DOMContentLoaded", function () {
    if (window.location.hash === "#call-action") {
      var call = document.querySelector("#call-action input");
      if (call) { call.focus(); }
    }
  });
}());
