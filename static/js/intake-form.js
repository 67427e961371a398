// Progressive enhancement of the questionnaire: follow-up questions appear as soon as
// their gate question is answered, "none" options clear the others, and the error
// summary takes focus. Without this script the form works the same, one page later.
(function () {
  "use strict";
  var form = document.querySelector("[data-intake-form]");
  if (!form) return;

  function answerOf(name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    if (!inputs.length) return undefined;
    var first = inputs[0];
    if (first.type === "checkbox" && inputs.length > 1) {
      return Array.prototype.filter.call(inputs, function (i) { return i.checked; })
        .map(function (i) { return i.value; });
    }
    if (first.type === "radio") {
      var checked = Array.prototype.find.call(inputs, function (i) { return i.checked; });
      if (!checked) return undefined;
      if (checked.value === "yes") return true;
      if (checked.value === "no") return false;
      return checked.value;
    }
    if (first.type === "checkbox") return first.checked;
    return first.value === "" ? undefined : first.value;
  }

  function compare(answer, operator, expected) {
    if (operator === "exists") return (answer !== undefined) === expected;
    if (answer === undefined) return false;
    var values = Array.isArray(answer) ? answer : [answer];
    if (values.length === 0) return false;
    // As on the server (FHIR): "!=" holds when no answer equals the value.
    if (operator === "!=") {
      return !values.some(function (value) { return String(value) === String(expected); });
    }
    return values.some(function (value) {
      switch (operator) {
        case "=": return String(value) === String(expected);
        case ">": return Number(value) > Number(expected);
        case "<": return Number(value) < Number(expected);
        case ">=": return Number(value) >= Number(expected);
        case "<=": return Number(value) <= Number(expected);
        default: return true;
      }
    });
  }

  var dependants = Array.prototype.slice.call(form.querySelectorAll("[data-enable-when]"));

  // Someone under 18 learns about the guardian rule as they type their birth date.
  var minorNotice = form.querySelector("[data-minor-after]");

  function refresh() {
    if (minorNotice) {
      var born = answerOf("birth_date");
      // ISO dates compare as strings.
      minorNotice.hidden = !(born && born > minorNotice.getAttribute("data-minor-after"));
    }
    dependants.forEach(function (element) {
      var rule = JSON.parse(element.getAttribute("data-enable-when"));
      var results = rule.conditions.map(function (c) {
        return compare(answerOf(c.question), c.operator, c.answer);
      });
      var enabled = rule.behavior === "any"
        ? results.some(Boolean) : results.every(Boolean);
      element.hidden = !enabled;
      element.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !enabled;
      });
    });
  }

  form.addEventListener("change", function (event) {
    var input = event.target;
    var group = input.closest("[data-exclusive]");
    if (group && input.type === "checkbox" && input.checked) {
      var exclusive = group.getAttribute("data-exclusive").split(" ");
      var isExclusive = exclusive.indexOf(input.value) !== -1;
      group.querySelectorAll('input[type="checkbox"]').forEach(function (other) {
        if (other === input) return;
        if (isExclusive || exclusive.indexOf(other.value) !== -1) other.checked = false;
      });
    }
    refresh();
  });
  form.addEventListener("input", refresh);
  // Enter (a phone's "Go") in the save-later email box saves; it does not mean Next.
  var resumeEmail = form.querySelector('[name="resume_email"]');
  if (resumeEmail) {
    resumeEmail.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      form.querySelector('button[name="action"][value="save"]').click();
    });
  }
  // A second tap while the first is on its way sends nothing more (the server also
  // makes one submission of a draft, whatever arrives).
  form.addEventListener("submit", function (event) {
    if (form.getAttribute("data-sending")) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sending", "true");
  });
  // Coming back with the browser's Back button restores the page as it was sent.
  window.addEventListener("pageshow", function () {
    form.removeAttribute("data-sending");
  });
  refresh();

  var summary = document.getElementById("errors-summary");
  if (summary) summary.focus();
})();
