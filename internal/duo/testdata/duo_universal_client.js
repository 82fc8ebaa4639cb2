// Drives Duo's own Node.js Universal Prompt client
// (@duosecurity/duo_universal, installed by `make test-tools`) against a
// test portal, one call per run, printing JSON:
//   health | authurl USERNAME STATE | exchange CODE USERNAME
// Configuration comes from DUO_CLIENT_ID, DUO_CLIENT_SECRET, DUO_API_HOST,
// DUO_REDIRECT_URL and DUO_CA (the test CA, PEM).
"use strict";
const fs = require("fs");
const https = require("https");
const axios = require("axios");
const { Client } = require("@duosecurity/duo_universal");

const env = process.env;
const client = new Client({
  clientId: env.DUO_CLIENT_ID,
  clientSecret: env.DUO_CLIENT_SECRET,
  apiHost: env.DUO_API_HOST,
  redirectUrl: env.DUO_REDIRECT_URL,
});
// The client pins Duo's CAs. Trust the test CA instead, as WithHTTPClient
// and duo_certs= do for Duo's Go and Python clients; everything else (the
// JWTs, the requests, the checks of the answer) is the client's own code.
client.axios = axios.create({
  baseURL: "https://" + env.DUO_API_HOST,
  httpsAgent: new https.Agent({ ca: fs.readFileSync(env.DUO_CA) }),
});

async function main(cmd, args) {
  switch (cmd) {
    case "health":
      return client.healthCheck();
    case "authurl":
      return { url: await client.createAuthUrl(args[0], args[1]) };
    case "exchange":
      return client.exchangeAuthorizationCodeFor2FAResult(args[0], args[1]);
  }
  throw new Error("unknown command " + cmd);
}

main(process.argv[2], process.argv.slice(3)).then(
  (out) => { process.stdout.write(JSON.stringify(out)); },
  (err) => { process.stdout.write(JSON.stringify({ error: String(err && err.message ? err.message : err) })); process.exitCode = 1; }
);
