// Live updates for Samverka's pages. Every page works without this script; with it, a page
// listens to /handelser and, when a case it shows changes, fetches itself again and swaps
// the parts marked data-live-region, so receipts and new messages appear without a reload.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var watching = main.getAttribute("data-live");
  if (!watching) return;
  var status = document.getElementById("live-status");
  var busy = false, again = false;

  function typing() {
    var a = document.activeElement;
    return a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName) && a.value !== a.defaultValue;
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    // The header tells the server this is not the user acting: nothing is marked opened and
    // the session's idle time is not extended.
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Samverka-Live": "1" } })
      .then(function (r) {
        if (r.redirected || !r.ok) return null;
        return r.text();
      })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var changed = 0;
        doc.querySelectorAll("[data-live-region]").forEach(function (fresh) {
          var old = document.getElementById(fresh.id);
          if (!old || old.innerHTML === fresh.innerHTML) return;
          // Keep a form the user is filling in: swap only regions without unsaved input.
          if (old.contains(document.activeElement) && typing()) return;
          old.innerHTML = fresh.innerHTML;
          old.classList.remove("updated");
          void old.offsetWidth;
          old.classList.add("updated");
          changed++;
        });
        document.title = doc.title;
        var link = document.querySelector('header.top nav a[href="/"]');
        var freshLink = doc.querySelector('header.top nav a[href="/"]');
        if (link && freshLink) link.innerHTML = freshLink.innerHTML;
        if (changed && status) status.textContent = main.getAttribute("data-live-said") || "Sidan har uppdaterats.";
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function connect() {
    var source = new EventSource("/handelser");
    source.addEventListener("change", function (e) {
      var data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      if (watching === "inbox" || data.case === watching || /^0{8}-/.test(data.case)) refresh();
      else {
        // Another case: only the unread count in the title and menu changes.
        var n = data.unread;
        document.title = document.title.replace(/^\(\d+\) /, "");
        if (n > 0) document.title = "(" + n + ") " + document.title;
      }
    });
    source.onerror = function () {
      // The server ends the stream when the session may have timed out; reconnecting checks
      // the session again. A refused reconnect leaves the page as it is.
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
    };
  }
  connect();
})();
