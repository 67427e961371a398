// On every patient page, and active only inside a frame on the clinic's own website
// (embed.js there): tells the parent page this page's height, at load and whenever it
// changes, so the frame fits its content. Only the height is sent, never an answer.
// A link opens the page in a tab of its own, for browsers that refuse cookies to a
// framed site (the form needs its session there).
(function () {
  "use strict";
  if (window.top === window.self) return;
  var script = document.currentScript;
  var root = document.documentElement;
  root.setAttribute("data-framed", "");

  var last = 0;
  function tell(always) {
    var height = Math.ceil(root.getBoundingClientRect().height);
    if (height === last && always !== true) return;
    last = height;
    window.parent.postMessage({ type: "clinic-intake:height", height: height }, "*");
  }

  function newTabLink() {
    var main = document.getElementById("main");
    var text = script && script.getAttribute("data-new-tab");
    if (!main || !text) return;
    var link = document.createElement("a");
    link.href = window.location.href;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = text;
    var paragraph = document.createElement("p");
    paragraph.className = "new-tab";
    paragraph.appendChild(link);
    main.insertBefore(paragraph, main.firstChild);
  }

  newTabLink();
  window.addEventListener("load", function () { tell(true); });
  if ("ResizeObserver" in window) {
    new ResizeObserver(function () { tell(); }).observe(root);
  } else {
    window.addEventListener("resize", function () { tell(); });
  }
})();
