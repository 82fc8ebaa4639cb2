// Progressive enhancements shared by every page. The forms work without this
// script; it saves clicks (code fields submit themselves), copies the setup
// key, and runs the WebAuthn ceremony of the security-key page, which cannot
// work without script.
"use strict";

document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", function () {
  // A code field submits its form as soon as it holds the expected number of
  // digits, whether pasted or filled in by the phone's keyboard. Where a
  // longer code is also accepted (data-autosubmit-wait: a 9-digit bypass
  // code), a sixth digit typed by hand waits a moment for more, so that
  // the longer code is not sent cut short as a wrong try.
  document.querySelectorAll("input[data-autosubmit]").forEach(function (input) {
    var want = parseInt(input.getAttribute("data-autosubmit"), 10);
    var wait = parseInt(input.getAttribute("data-autosubmit-wait") || "0", 10);
    var sent = false;
    var timer = null;
    function submit() {
      var digits = input.value.replace(/\D/g, "");
      if (!sent && digits.length === want && input.form) {
        sent = true;
        input.form.requestSubmit();
      }
    }
    input.addEventListener("input", function (event) {
      clearTimeout(timer);
      if (wait > 0 && event.inputType === "insertText") {
        timer = setTimeout(submit, wait);
        return;
      }
      submit();
    });
  });

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById("copy-status");
      if (!source || !navigator.clipboard) { return; }
      navigator.clipboard.writeText(source.textContent.replace(/\s+/g, "")).then(function () {
        if (status) { status.textContent = "Key copied."; }
      });
    });
  });

  // The number field's example follows the chosen country, so that it is
  // always a number the country accepts.
  var country = document.getElementById("country");
  var example = document.getElementById("number-example");
  if (country && example) {
    country.addEventListener("change", function () {
      var chosen = country.options[country.selectedIndex];
      var number = chosen && chosen.getAttribute("data-example");
      if (number) { example.textContent = number; }
    });
  }

  var keyForm = document.getElementById("key-form");
  if (keyForm) { setUpSecurityKeyForm(keyForm); }
});

function b64urlToBytes(s) {
  s = s.replace(/-/g, "+").replace(/_/g, "/");
  while (s.length % 4) { s += "="; }
  var bin = atob(s);
  var out = new Uint8Array(bin.length);
  for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
  return out.buffer;
}

function bytesToB64url(buf) {
  var bytes = new Uint8Array(buf);
  var bin = "";
  for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function setUpSecurityKeyForm(form) {
  var button = document.getElementById("key-register");
  var status = document.getElementById("key-status");
  var nameInput = form.querySelector("input[name=name]");
  var csrf = form.querySelector("input[name=csrf_token]").value;

  if (!window.PublicKeyCredential || !navigator.credentials) {
    status.textContent = "This browser cannot use security keys. Try another browser, or go back and choose another kind of device.";
    return;
  }
  button.disabled = false;

  function fail(message, field) {
    status.textContent = message;
    status.classList.add("error-text");
    button.disabled = false;
    if (field === "name") {
      nameInput.setAttribute("aria-invalid", "true");
      nameInput.focus();
    }
  }

  function post(url, body, type) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": type, "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: body
    }).then(function (res) {
      return res.json().then(function (data) { return { ok: res.ok, data: data }; });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    status.classList.remove("error-text");
    nameInput.removeAttribute("aria-invalid");
    status.textContent = "Getting ready…";
    var params = new URLSearchParams();
    params.set("name", nameInput.value);
    params.set("csrf_token", csrf);
    post(form.getAttribute("data-options"), params.toString(), "application/x-www-form-urlencoded")
      .then(function (r) {
        if (!r.ok) { throw { message: r.data.error, field: r.data.field }; }
        var options = r.data.publicKey;
        options.challenge = b64urlToBytes(options.challenge);
        options.user.id = b64urlToBytes(options.user.id);
        (options.excludeCredentials || []).forEach(function (c) { c.id = b64urlToBytes(c.id); });
        status.textContent = "Touch your security key now, or follow your browser's steps.";
        return navigator.credentials.create({ publicKey: options }).catch(function (err) {
          // The browser answers InvalidStateError when the key holds one of
          // the credentials the server listed as already registered.
          if (err && err.name === "InvalidStateError") {
            throw { message: "This key is already set up for your account. You can use it to sign in, or register another key." };
          }
          throw { message: "The security key was not set up: the request was cancelled or timed out. Press the button to try again." };
        });
      })
      .then(function (cred) {
        status.textContent = "Checking your key…";
        var body = JSON.stringify({
          id: cred.id,
          rawId: bytesToB64url(cred.rawId),
          type: cred.type,
          authenticatorAttachment: cred.authenticatorAttachment || undefined,
          clientExtensionResults: cred.getClientExtensionResults(),
          response: {
            attestationObject: bytesToB64url(cred.response.attestationObject),
            clientDataJSON: bytesToB64url(cred.response.clientDataJSON),
            transports: cred.response.getTransports ? cred.response.getTransports() : []
          }
        });
        return post(form.getAttribute("action"), body, "application/json");
      })
      .then(function (r) {
        if (!r.ok) { throw { message: r.data.error }; }
        status.textContent = "Your security key is set up.";
        window.location.assign(r.data.next);
      })
      .catch(function (e) {
        fail((e && e.message) || "Something went wrong. Press the button to try again.", e && e.field);
      });
  });
}
