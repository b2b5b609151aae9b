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

  // A region the user is working in is left alone: a changed field, a checked box, a chosen
  // option or an open disclosure inside it.
  function busyWith(region) {
    if (region.querySelector("details[open]")) return true;
    var controls = region.querySelectorAll("input, textarea, select");
    for (var i = 0; i < controls.length; i++) {
      var c = controls[i];
      if (c.type === "hidden") continue;
      if (c.tagName === "SELECT") {
        // Without a preselected option the first one is the default.
        var initial = 0;
        for (var j = 0; j < c.options.length; j++) if (c.options[j].defaultSelected) initial = j;
        if (c.selectedIndex !== initial) return true;
      } else if (c.type === "checkbox" || c.type === "radio") {
        if (c.checked !== c.defaultChecked) return true;
      } else if (c.value !== c.defaultValue) return true;
    }
    return false;
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
          if (!old || (old.innerHTML === fresh.innerHTML && old.hidden === fresh.hidden) || busyWith(old)) return;
          // Keep keyboard focus where it was, when the same element is still there.
          var focused = old.contains(document.activeElement) ? document.activeElement : null;
          var key = focused && (focused.id || (focused.name && focused.value ? focused.name + "=" + focused.value : ""));
          old.innerHTML = fresh.innerHTML;
          old.hidden = fresh.hidden; // a region that was empty may now have something to show
          if (key) {
            var again = focused.id ? document.getElementById(focused.id)
              : old.querySelector('[name="' + focused.name + '"][value="' + focused.value + '"]');
            if (again) again.focus();
          }
          old.classList.remove("updated");
          void old.offsetWidth;
          old.classList.add("updated");
          changed++;
        });
        document.title = doc.title;
        var link = document.querySelector('header.top nav a[href="/"]');
        var freshLink = doc.querySelector('header.top nav a[href="/"]');
        if (link && freshLink) link.innerHTML = freshLink.innerHTML;
        if (changed && status) {
          // Cleared first, so the same words are announced again.
          status.textContent = "";
          setTimeout(function () { status.textContent = main.getAttribute("data-live-said") || ""; }, 50);
        }
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  // Another case changed: only the unread count in the title and the menu changes.
  function unread(n) {
    if (typeof n !== "number") return;
    document.title = document.title.replace(/^\(\d+\) /, "");
    if (n > 0) document.title = "(" + n + ") " + document.title;
    var link = document.querySelector('header.top nav a[href="/"]');
    if (!link) return;
    var count = link.querySelector(".count");
    if (n <= 0) { if (count) count.remove(); return; }
    if (!count) {
      count = document.createElement("span");
      count.className = "count";
      var said = document.createElement("span");
      said.className = "visually-hidden";
      said.textContent = " " + (link.getAttribute("data-unread-label") || "");
      count.appendChild(document.createTextNode(""));
      count.appendChild(said);
      link.appendChild(document.createTextNode(" "));
      link.appendChild(count);
    }
    count.firstChild.nodeValue = String(n);
  }

  function connect() {
    var source = new EventSource("/handelser");
    // After the stream was lost (the server restarted, or the stream moved to another
    // process), whatever changed meanwhile was not told: look again once it is back. Also
    // when the very first attempt failed: the page may be older than the first stream.
    var lost = false;
    source.addEventListener("error", function () { lost = true; });
    source.addEventListener("open", function () {
      if (lost) refresh();
      lost = false;
    });
    source.addEventListener("change", function (e) {
      var data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      if (watching === "inbox" || data.case === watching || /^0{8}-/.test(data.case)) refresh();
      else unread(data.unread);
    });
    // The browser reconnects by itself when the stream ends; the server answers 204 once the
    // session is over, and then the browser stops (and the page stays as it is).
  }
  connect();
})();
