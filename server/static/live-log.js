// live-log.js follows the log of each running suite on a verification page:
// the page holds the log so far; an EventSource (sending the session cookie)
// brings each new line, and the stream's "end" event closes it. Lines are
// added as text, never as HTML: they are the suite's own output.
"use strict";
document.querySelectorAll("pre[data-events]").forEach(function (pre) {
  var status = document.getElementById(pre.dataset.status);
  var url = pre.dataset.events + "?after=" + encodeURIComponent(pre.dataset.after);
  var es = new EventSource(url);
  es.onmessage = function (e) {
    var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.appendChild(document.createTextNode(e.data + "\n"));
    pre.dataset.after = e.lastEventId;
    if (atBottom) { pre.scrollTop = pre.scrollHeight; }
  };
  es.addEventListener("end", function (e) {
    es.close();
    pre.dataset.done = "true";
    if (status) { status.textContent = "finished: " + e.data + " (reload for test results)"; }
  });
  es.onerror = function () {
    if (es.readyState === EventSource.CLOSED && status) { status.textContent = "live log stopped: reload to resume"; }
  };
});
