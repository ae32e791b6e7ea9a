// mim-metrics dashboard: filters apply on change (the page says so; the
// Apply button stays), tooltips follow the pointer and the focus. The
// pages work without this script.
(function () {
  "use strict";
  var form = document.querySelector("form.filters");
  if (form) {
    var note = form.querySelector(".js-note");
    if (note) note.hidden = false;
    form.querySelectorAll("select").forEach(function (s) {
      s.addEventListener("change", function () { form.submit(); });
    });
  }
  var tip = document.createElement("div");
  tip.id = "tooltip";
  document.body.appendChild(tip);
  function show(ev) {
    var t = ev.target.closest ? ev.target.closest("rect.bar, circle.dot") : null;
    if (!t) { tip.style.display = "none"; return; }
    var title = t.querySelector("title");
    tip.textContent = title ? title.textContent : "";
    tip.style.left = (ev.clientX + 12) + "px";
    tip.style.top = (ev.clientY + 12) + "px";
    tip.style.display = "block";
  }
  document.addEventListener("mousemove", show);
  document.addEventListener("focusin", function (ev) {
    var t = ev.target.closest ? ev.target.closest("rect.bar, circle.dot") : null;
    if (!t) { tip.style.display = "none"; return; }
    var r = t.getBoundingClientRect();
    show({ target: t, clientX: r.right, clientY: r.bottom });
  });
  document.addEventListener("mouseleave", function () { tip.style.display = "none"; });
})();
