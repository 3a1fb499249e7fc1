// fishhook inspector: live updates over Server-Sent Events, copy buttons, relative times,
// "/" to search. The pages work without it; this only keeps them current.
"use strict";

(function () {
  var refreshing = false;
  var again = false;
  var timer = null;

  function idsIn(root) {
    var seen = {};
    root.querySelectorAll("[data-id]").forEach(function (el) { seen[el.getAttribute("data-id")] = true; });
    return seen;
  }

  // Re-read this page and swap each live region for its new version; new rows flash once.
  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || response.status === 401) { location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-region]").forEach(function (region) {
          var name = region.getAttribute("data-region");
          var next = fresh.querySelector('[data-region="' + name + '"]');
          if (!next || next.innerHTML === region.innerHTML) { return; }
          var before = idsIn(region);
          region.innerHTML = next.innerHTML;
          region.querySelectorAll("[data-id]").forEach(function (el) {
            if (!before[el.getAttribute("data-id")]) { el.classList.add("fresh"); }
          });
        });
        relativeTimes();
      })
      .catch(function () { /* the next event or reconnect tries again */ })
      .then(function () {
        refreshing = false;
        if (again) { again = false; schedule(); }
      });
  }

  function schedule() {
    if (timer) { return; }
    // Fold a burst of notifications into one re-read.
    timer = setTimeout(function () { timer = null; refresh(); }, 150);
  }

  function live() {
    if (!document.body.hasAttribute("data-live") || !window.EventSource) { return; }
    var badge = document.getElementById("live-status");
    var source = new EventSource("/ui/events");
    if (badge) { badge.hidden = false; }
    source.addEventListener("open", function () {
      if (badge) { badge.classList.add("on"); badge.lastChild.textContent = "Live"; }
    });
    source.addEventListener("error", function () {
      // EventSource reconnects by itself (the server sets the delay).
      if (badge) { badge.classList.remove("on"); badge.lastChild.textContent = "Reconnecting"; }
    });
    source.addEventListener("change", schedule);
  }

  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy"));
        if (!target) { return; }
        var label = button.textContent;
        var done = function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = label; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(target.textContent).then(done, function () { select(target); });
        } else {
          select(target);
        }
      });
    });
  }

  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function ago(seconds) {
    if (seconds < 5) { return "just now"; }
    if (seconds < 60) { return Math.floor(seconds) + " s ago"; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + " min ago"; }
    if (seconds < 86400) { return Math.floor(seconds / 3600) + " h ago"; }
    return null;
  }

  // Recent times read as "12 s ago"; the exact UTC time stays in the tooltip.
  function relativeTimes() {
    var now = Date.now();
    document.querySelectorAll("time.ago").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) { return; }
      if (!el.title) { el.title = el.textContent + " UTC"; }
      var text = ago(Math.max(0, (now - at) / 1000));
      el.textContent = text || el.title.replace(" UTC", "");
    });
  }

  function keyboard() {
    document.addEventListener("keydown", function (event) {
      var tag = (event.target && event.target.tagName) || "";
      if (event.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(tag)) {
        var search = document.getElementById("global-search");
        if (search) { event.preventDefault(); search.focus(); }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    live();
    copyButtons();
    relativeTimes();
    setInterval(relativeTimes, 5000);
    keyboard();
  });
})();
