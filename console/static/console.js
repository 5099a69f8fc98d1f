// fulfil console: the little the pages need beyond HTML forms. No libraries, no network
// but the console's own URLs.
//  - [data-poll="/url"]: replace the element's content with the fragment at /url every
//    data-interval ms (the stop page's live acknowledgements), without reloading.
//  - time[data-countdown]: "12m 30s left" / "breached 4m ago", ticking each second.
(function () {
  function poll(el) {
    var every = parseInt(el.dataset.interval || "500", 10);
    function tick() {
      fetch(el.dataset.poll, { credentials: "same-origin", headers: { "X-Fragment": "1" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null && html !== el.innerHTML) el.innerHTML = html; })
        .catch(function () {})
        .finally(function () { if (!el.hasAttribute("data-done")) setTimeout(tick, every); });
    }
    setTimeout(tick, every);
  }
  function span(ms) {
    var s = Math.floor(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
    return (h ? h + "h " : "") + m + "m " + (s % 60) + "s";
  }
  function countdowns() {
    document.querySelectorAll("time[data-countdown]").forEach(function (t) {
      var left = Date.parse(t.dataset.countdown) - Date.now();
      t.textContent = left >= 0 ? span(left) + " left" : "breached " + span(left) + " ago";
      t.classList.toggle("breached", left < 0);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll]").forEach(poll);
    countdowns();
    setInterval(countdowns, 1000);
  });
})();
