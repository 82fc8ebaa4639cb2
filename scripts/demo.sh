#!/usr/bin/env bash
# `make demo`: the portal and the demo application side by side, on one
# database, so the Universal Prompt (with inline enrollment) can be tried in
# a browser at once. Ctrl-C stops both.
set -euo pipefail
bin=${1:-./bin/portal}
portal_addr=${PORTAL_ADDR:-127.0.0.1:8080}

"$bin" serve &
serve=$!
trap 'kill "$serve" 2>/dev/null || true; wait "$serve" 2>/dev/null || true' EXIT INT TERM

# Wait (up to 10 s) for the portal to listen before the demo checks it.
host=${portal_addr%:*}
port=${portal_addr##*:}
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/${host:-127.0.0.1}/$port") 2>/dev/null; then break; fi
  sleep 0.1
done

echo
echo "Open the demo application, sign in as any username, and follow the portal's steps."
"$bin" demo-app
