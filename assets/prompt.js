// The Universal Prompt's security-key sign-in ceremony (WebAuthn has no
// HTML-only form; every other prompt step works without script). It uses
// the base64url helpers of app.js, which loads first.
"use strict";
(function () {
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
      pk.challenge = b64urlToBytes(pk.challenge);
      (pk.allowCredentials || []).forEach(function (c) { c.id = b64urlToBytes(c.id); });
      return navigator.credentials.get({ publicKey: pk });
    }).then(function (cred) {
      var r = cred.response;
      return post(box.dataset.verify, {
        id: cred.id, rawId: bytesToB64url(cred.rawId), type: cred.type,
        response: {
          authenticatorData: bytesToB64url(r.authenticatorData),
          clientDataJSON: bytesToB64url(r.clientDataJSON),
          signature: bytesToB64url(r.signature),
          userHandle: r.userHandle ? bytesToB64url(r.userHandle) : ""
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
