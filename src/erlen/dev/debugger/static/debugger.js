// erlen debugger page: library-frame toggle, copy as text, PIN prompt, consoles.
(function () {
  "use strict";
  var body = document.body;
  var prefix = body.getAttribute("data-prefix") || "";
  var tracebackId = body.getAttribute("data-traceback");
  var secret = body.getAttribute("data-secret");
  var base = prefix + "/__debugger__/";

  function post(path, fields) {
    var params = new URLSearchParams();
    Object.keys(fields).forEach(function (key) { params.append(key, fields[key]); });
    params.append("s", secret);
    return fetch(base + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: params
    }).then(function (response) {
      return response.json().then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  // Hide or show library frames.
  var toggle = document.getElementById("toggle-library");
  if (toggle) {
    toggle.addEventListener("change", function () {
      body.classList.toggle("hide-library", toggle.checked);
    });
  }

  // Copy the plain-text traceback.
  var copy = document.getElementById("copy-text");
  var text = document.getElementById("traceback-text");
  var copyStatus = document.getElementById("copy-status");
  if (copy && text) {
    copy.addEventListener("click", function () {
      function done(ok) { if (copyStatus) { copyStatus.textContent = ok ? "Copied." : "Copy failed: select the text below."; } }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text.value).then(function () { done(true); }, function () {
          text.hidden = false; text.select(); done(false);
        });
      } else {
        text.hidden = false; text.select();
        done(document.execCommand && document.execCommand("copy"));
      }
    });
  }

  // The PIN prompt.
  var pinForm = document.getElementById("pin-form");
  var pinInput = document.getElementById("pin-input");
  var pinMessage = document.getElementById("pin-message");
  function showPin(message) {
    if (!pinForm) { return; }
    pinForm.hidden = false;
    if (message && pinMessage) { pinMessage.textContent = message; }
    if (pinInput) { pinInput.focus(); }
  }
  if (pinForm) {
    pinForm.addEventListener("submit", function (event) {
      event.preventDefault();
      post("pin", { pin: pinInput.value }).then(function (result) {
        if (result.data.auth) {
          pinForm.hidden = true;
          body.setAttribute("data-pin-required", "no");
        } else {
          pinMessage.textContent = result.data.message || "Wrong PIN.";
          pinInput.value = "";
        }
      }, function () { pinMessage.textContent = "The server did not answer."; });
    });
  }

  // One console per frame, with history on the arrow keys.
  function setupConsole(box) {
    var frame = box.getAttribute("data-frame");
    var input = box.querySelector(".console-input");
    var output = box.querySelector(".console-output");
    var history = [];
    var position = 0;
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowUp") {
        if (position > 0) { position -= 1; input.value = history[position]; }
        event.preventDefault();
      } else if (event.key === "ArrowDown") {
        if (position < history.length) { position += 1; input.value = history[position] || ""; }
        event.preventDefault();
      } else if (event.key === "Enter") {
        var cmd = input.value;
        if (cmd) { history.push(cmd); }
        position = history.length;
        input.value = "";
        output.appendChild(document.createTextNode(">>> " + cmd + "\n"));
        var path = (tracebackId || "console") + "/eval";
        post(path, { frame: frame, cmd: cmd }).then(function (result) {
          var data = result.data;
          if (result.status === 401) { showPin(data.message); }
          var shown = data.output !== undefined ? data.output : (data.message || "") + "\n";
          output.appendChild(document.createTextNode(shown));
          output.scrollTop = output.scrollHeight;
        }, function () {
          output.appendChild(document.createTextNode("The server did not answer.\n"));
        });
      }
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".console"), setupConsole);
  Array.prototype.forEach.call(document.querySelectorAll(".console-toggle"), function (button) {
    button.addEventListener("click", function () {
      var frame = button.getAttribute("data-frame");
      var box = document.querySelector('.console[data-frame="' + frame + '"]');
      box.hidden = !box.hidden;
      button.textContent = box.hidden ? "Open console" : "Close console";
      if (!box.hidden) {
        if (body.getAttribute("data-pin-required") === "yes") { showPin(); }
        box.querySelector(".console-input").focus();
      }
    });
  });
})();
