#!/usr/bin/env bash
# Installs what the tests drive for real, when it is missing. As root it
# installs Debian packages; otherwise it only reports what is missing. Under
# CI (CI=true) a tool still missing afterwards is an error, never a skip.
set -euo pipefail
tools_dir=${1:?tools dir}

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v login_duo >/dev/null || need+=(login-duo libpam-duo)
command -v slapd >/dev/null || [ -x /usr/sbin/slapd ] || need+=(slapd ldap-utils)
command -v zbarimg >/dev/null || need+=(zbar-tools)
command -v oathtool >/dev/null || need+=(oathtool)
# A Samba AD domain controller for the Active Directory sync tests.
command -v samba >/dev/null || [ -x /usr/sbin/samba ] || need+=(samba winbind ldb-tools)
command -v npm >/dev/null || need+=(npm)
# PostgreSQL for the store's tests on that backend (testkit.StartPostgres
# runs initdb and postgres from PATH or /usr/lib/postgresql/*/bin).
command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test-tools: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "test-tools: missing ${need[*]} (run as root to install them)" >&2
  fi
fi

axe="$tools_dir/node_modules/axe-core/axe.min.js"
if [ ! -f "$axe" ]; then
  mkdir -p "$tools_dir"
  (cd "$tools_dir" && npm install --silent --no-audit --no-fund --prefix . axe-core@4.14.1 >/dev/null)
fi

# Duo's own Node.js Universal Prompt client, driven against the portal by
# the oauth compatibility test.
duo="$tools_dir/node_modules/@duosecurity/duo_universal/package.json"
if [ ! -f "$duo" ]; then
  mkdir -p "$tools_dir"
  (cd "$tools_dir" && npm install --silent --no-audit --no-fund --prefix . @duosecurity/duo_universal@3.0.0 >/dev/null)
fi

# Duo's own Node.js Admin API (and Auth API) client, driven against the
# portal by the Admin API compatibility test.
duoapi="$tools_dir/node_modules/@duosecurity/duo_api/package.json"
if [ ! -f "$duoapi" ]; then
  mkdir -p "$tools_dir"
  (cd "$tools_dir" && npm install --silent --no-audit --no-fund --prefix . @duosecurity/duo_api@1.5.0 >/dev/null)
fi

# staticcheck, pinned: a newer release may add checks that fail the run.
# Built from the Go module proxy with the local toolchain, so it understands
# the go version of go.mod.
staticcheck_version=v0.8.2
sc="$tools_dir/bin/staticcheck"
if ! "$sc" -version 2>/dev/null | grep -q "(${staticcheck_version#v})"; then
  mkdir -p "$tools_dir/bin"
  echo "test-tools: installing staticcheck $staticcheck_version"
  GOBIN="$(cd "$tools_dir/bin" && pwd)" go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
fi

if [ "${CI:-}" = true ]; then
  for t in chromium login_duo zbarimg oathtool; do
    command -v "$t" >/dev/null || { echo "test-tools: $t is still missing" >&2; exit 1; }
  done
  [ -x /usr/sbin/slapd ] || { echo "test-tools: slapd is still missing" >&2; exit 1; }
  command -v samba-tool >/dev/null && { command -v samba >/dev/null || [ -x /usr/sbin/samba ]; } || { echo "test-tools: samba is still missing" >&2; exit 1; }
  command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "test-tools: PostgreSQL (initdb) is still missing" >&2; exit 1; }
  [ -f "$axe" ] || { echo "test-tools: axe-core is still missing" >&2; exit 1; }
  [ -f "$duo" ] || { echo "test-tools: @duosecurity/duo_universal is still missing" >&2; exit 1; }
  [ -f "$duoapi" ] || { echo "test-tools: @duosecurity/duo_api is still missing" >&2; exit 1; }
fi
