// The Universal Prompt's browser side: the security-key sign-in ceremony,
// and the automatic return to the application once verified. Both are
// reached from plain links too, so nothing depends on this script except
// the security key itself (WebAuthn has no HTML-only form).
"use strict";
(function () {
  document.documentElement.classList.add("js");
  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  var cont = document.querySelector("a[data-auto-continue]");
  if (cont) {
    window.setTimeout(function () { window.location.assign(cont.href); }, 300);
  }

  var box = document.getElementById("key-login");
  if (!box) return;
  var button = document.getElementById("key-start");
  var status = document.getElementById("key-status");
  function say(text) { status.textContent = text; }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": box.dataset.csrf },
      body: body === undefined ? "{}" : JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.error || "Something went wrong. Try again.");
        return j;
      });
    });
  }
  if (!window.PublicKeyCredential) {
    say("This browser cannot use security keys. Try another browser, or use another method.");
    button.disabled = true;
    return;
  }
  button.addEventListener("click", function () {
    button.disabled = true;
    say("Touch your security key or confirm on your device now.");
    post(box.dataset.options).then(function (opts) {
      var pk = opts.publicKey;
      pk.challenge = b64urlToBuf(pk.challenge);
      (pk.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
      return navigator.credentials.get({ publicKey: pk });
    }).then(function (cred) {
      var r = cred.response;
      return post(box.dataset.verify, {
        id: cred.id, rawId: bufToB64url(cred.rawId), type: cred.type,
        response: {
          authenticatorData: bufToB64url(r.authenticatorData),
          clientDataJSON: bufToB64url(r.clientDataJSON),
          signature: bufToB64url(r.signature),
          userHandle: r.userHandle ? bufToB64url(r.userHandle) : ""
        }
      });
    }).then(function (j) {
      say("Verified. Taking you back…");
      window.location.assign(j.next);
    }).catch(function (e) {
      button.disabled = false;
      if (e && e.name === "NotAllowedError") {
        say("The security key was not used, or the request timed out. Select the button to try again.");
      } else {
        say(e && e.message ? e.message : "Something went wrong. Try again.");
      }
    });
  });
})();
