// For the clinic's own website, beside the frame that shows the questionnaire:
//   <iframe src="https://intake.clinic.example/en/consultation/" data-clinic-intake
//           title="Consultation questionnaire"></iframe>
//   <script src="https://intake.clinic.example/static/js/embed.js" defer></script>
// Each framed page tells its height (framed.js); the frame takes that height, so the
// page scrolls as one. A message counts only from the frame's own window and origin.
(function () {
  "use strict";
  var MESSAGE = "clinic-intake:height";
  var loads = new WeakMap();

  function frames() {
    return Array.prototype.slice.call(document.querySelectorAll("iframe[data-clinic-intake]"));
  }

  function originOf(frame) {
    try {
      return new URL(frame.src, document.baseURI).origin;
    } catch (error) {
      return null;
    }
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.type !== MESSAGE) return;
    var height = Number(data.height);
    if (!isFinite(height) || height <= 0) return;
    frames().forEach(function (frame) {
      if (event.source !== frame.contentWindow || event.origin !== originOf(frame)) return;
      frame.style.height = Math.min(Math.ceil(height), 100000) + "px";
    });
  });

  function watch(frame) {
    if (loads.has(frame)) return;
    loads.set(frame, 0);
    frame.addEventListener("load", function () {
      var count = loads.get(frame) + 1;
      loads.set(frame, count);
      // A new step starts at its top: bring the frame's top into view, but not on
      // the first load (the visitor may be reading the page above the frame).
      if (count > 1 && frame.getBoundingClientRect().top < 0) {
        frame.scrollIntoView({ block: "start" });
      }
    });
  }

  function start() {
    frames().forEach(watch);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
