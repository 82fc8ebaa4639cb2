// Drives Duo's own Node.js API client (@duosecurity/duo_api, installed by
// `make test-tools`) against a test portal: one call per run, printing the
// answer as the client decoded it (JSON):
//   node duo_admin_client.js SIGNATURE_VERSION METHOD PATH PARAMS_JSON
// SIGNATURE_VERSION is 2 (form and query parameters) or 5 (a JSON body for
// POST). Configuration comes from DUO_IKEY, DUO_SKEY, DUO_API_HOST
// (host:port) and DUO_CA (the test CA, PEM).
"use strict";
const fs = require("fs");
const https = require("https");
const duo = require("@duosecurity/duo_api");
const constants = require("@duosecurity/duo_api/lib/constants");

const env = process.env;
// The client pins Duo's CAs: trust the test CA instead, as duo_certs= and
// SetCustomHTTPClient do for Duo's Python and Go clients.
constants.DUO_PINNED_CERT = fs.readFileSync(env.DUO_CA, "utf8");
// The client signs and sends Host as the host it is given, port included
// (as the portal prints api_host), but hands that whole string to Node as
// the name to connect to: split the port off for the connection only. The
// signature, the headers and the body stay the client's own.
const request = https.request;
https.request = function (options, callback) {
  const [hostname, port] = String(options.host).split(":");
  return request(Object.assign({}, options, { host: hostname, port: Number(port) || 443 }), callback);
};

const [sigVersion, method, path, params] = process.argv.slice(2);
const client = new duo.Client(env.DUO_IKEY, env.DUO_SKEY, env.DUO_API_HOST,
  sigVersion === "5" ? duo.SIGNATURE_VERSION_5 : duo.SIGNATURE_VERSION_2);
client.jsonApiCall(method, path, JSON.parse(params || "{}"), (answer) => {
  process.stdout.write(JSON.stringify(answer));
});
