#!/usr/bin/env bash
# Brings a fresh clone to a runnable state: npm packages, the pinned Temporal CLI, PostgreSQL.
# Safe to run repeatedly: each step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
TOOLS_DIR="${CALSYNC_TOOLS_DIR:-$HOME/.cache/calsync}"
TEMPORAL_BIN="$TOOLS_DIR/temporal-$TEMPORAL_CLI_VERSION/temporal"
# The production engine (CALSYNC_ENGINE=server): the release docker-compose.yml pins, checked by test/compose.test.ts.
TEMPORAL_SERVER_VERSION="${TEMPORAL_SERVER_VERSION:-v1.29.1}"
SERVER_DIR="$TOOLS_DIR/temporal-server-$TEMPORAL_SERVER_VERSION"
# Temporal UI's own server, the version the CLI embeds: only it can be told to send the admin's codec
# session cookie to calsync's codec endpoint (codec.includeCredentials; see scripts/temporalUi.ts).
TEMPORAL_UI_VERSION="${TEMPORAL_UI_VERSION:-v2.42.1}"
TEMPORAL_UI_BIN="$TOOLS_DIR/temporal-ui-$TEMPORAL_UI_VERSION/server"

log() { printf '[setup] %s\n' "$*"; }

# 1. npm packages: reinstall when package-lock.json changed since the last install.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.calsync-lock-sum ] || [ "$(cat node_modules/.calsync-lock-sum)" != "$lock_sum" ]; then
  log "installing npm packages"
  # npm ci trips over optional platform packages missing from the lock; install honours the lock too.
  npm install --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.calsync-lock-sum
fi

# 2. Temporal CLI (dev server + Temporal UI), built from source at a pinned tag and reused.
#    `go install` stamps the module version into the binary; `go version -m` reads it back.
if [ -z "${TEMPORAL_ADDRESS:-}" ]; then
  if ! command -v go >/dev/null; then
    for d in /usr/local/go/bin /usr/lib/go/bin; do [ -x "$d/go" ] && PATH="$d:$PATH"; done
  fi
  have=""
  [ -x "$TEMPORAL_BIN" ] && have=$(go version -m "$TEMPORAL_BIN" 2>/dev/null | awk '$1=="mod" && $2=="github.com/temporalio/cli" {print $3}')
  if [ "$have" != "$TEMPORAL_CLI_VERSION" ]; then
    log "building Temporal CLI $TEMPORAL_CLI_VERSION with go install (first time only, a few minutes)"
    mkdir -p "$(dirname "$TEMPORAL_BIN")"
    GOBIN="$(dirname "$TEMPORAL_BIN")" CGO_ENABLED=0 GOFLAGS=-mod=mod \
      go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  fi
  "$TEMPORAL_BIN" --version >/dev/null
fi
have_ui=""
[ -x "$TEMPORAL_UI_BIN" ] && have_ui=$(go version -m "$TEMPORAL_UI_BIN" 2>/dev/null | awk '$1=="mod" && $2=="github.com/temporalio/ui-server/v2" {print $3}')
if [ "$have_ui" != "$TEMPORAL_UI_VERSION" ]; then
  if ! command -v go >/dev/null; then
    for d in /usr/local/go/bin /usr/lib/go/bin; do [ -x "$d/go" ] && PATH="$d:$PATH"; done
  fi
  log "building Temporal UI server $TEMPORAL_UI_VERSION with go install (first time only, a minute or two)"
  mkdir -p "$(dirname "$TEMPORAL_UI_BIN")"
  GOBIN="$(dirname "$TEMPORAL_UI_BIN")" CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go install "github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_VERSION"
fi

# 2a. The real Temporal server and its SQL tool (CALSYNC_ENGINE=server), built the same way, plus the
#     PostgreSQL schema directories of that module, which the SQL tool applies (scripts/temporalServer.ts).
if [ "${CALSYNC_ENGINE:-dev}" = server ] && [ -z "${TEMPORAL_ADDRESS:-}" ]; then
  if ! command -v go >/dev/null; then
    for d in /usr/local/go/bin /usr/lib/go/bin; do [ -x "$d/go" ] && PATH="$d:$PATH"; done
  fi
  server_version() { go version -m "$1" 2>/dev/null | awk '$1=="mod" && $2=="go.temporal.io/server" {print $3}'; }
  if [ "$(server_version "$SERVER_DIR/server")" != "$TEMPORAL_SERVER_VERSION" ] \
    || [ "$(server_version "$SERVER_DIR/sql")" != "$TEMPORAL_SERVER_VERSION" ]; then
    log "building Temporal server $TEMPORAL_SERVER_VERSION and its SQL tool with go install (first time only, several minutes)"
    mkdir -p "$SERVER_DIR"
    GOBIN="$SERVER_DIR" CGO_ENABLED=0 GOFLAGS=-mod=mod go install \
      "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" \
      "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
  fi
  if [ ! -f "$SERVER_DIR/schema/postgresql/v12/temporal/versioned/v1.0/manifest.json" ]; then
    module_dir=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "go.temporal.io/server@$TEMPORAL_SERVER_VERSION" \
      | awk -F'"' '$2=="Dir" {print $4}')
    mkdir -p "$SERVER_DIR/schema/postgresql"
    rm -rf "$SERVER_DIR/schema/postgresql/v12"
    cp -r "$module_dir/schema/postgresql/v12" "$SERVER_DIR/schema/postgresql/v12"
    chmod -R u+w "$SERVER_DIR/schema"
  fi
fi

# 2b. Chromium for the connect page's browser test (Debian's package; playwright-core drives it).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
  log "installing chromium (apt-get)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# 2c. Radicale (Debian's package): the real CalDAV server the tests round-trip calsync's iCalendar through.
if ! command -v radicale >/dev/null && command -v apt-get >/dev/null; then
  log "installing radicale (apt-get)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq radicale >/dev/null
fi

# 3. PostgreSQL: when no DATABASE_URL is given, the local server must be up (start it if it is not).
if [ -z "${DATABASE_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      log "starting local PostgreSQL"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    fi
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    pg_isready -h 127.0.0.1 -p 5432 || { log "PostgreSQL is not reachable on 127.0.0.1:5432; set DATABASE_URL"; exit 1; }
  fi
fi
log "ready"
