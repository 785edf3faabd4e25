#!/usr/bin/env bash
# make setup: PostgreSQL running with a role for us, a virtualenv with Odoo 18.0 and the dev
# tools, and an addons path where this repository is named remote_data_migration.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

ODOO_DEFAULT_SRC=${ODOO_DEFAULT_SRC:-/opt/odoo/18.0}
ODOO_GIT_URL=${ODOO_GIT_URL:-https://github.com/odoo/odoo.git}
VENV=${VENV:-$HOME/.venvs/remote_data_migration-18.0}
PYTHON=${PYTHON:-python3}
BUILD=$REPO/.build

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
    # Debian packages are installed only when missing, so a second run never touches apt.
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- PostgreSQL ------------------------------------------------------------------------------
if ! command -v pg_lsclusters >/dev/null 2>&1; then
    apt_install postgresql
fi
pg_lsclusters --no-header | while read -r ver name _port status _rest; do
    if [ "$status" != online ]; then
        say "starting PostgreSQL cluster $ver/$name"
        as_root pg_ctlcluster "$ver" "$name" start
    fi
done
DB_ROLE=${PGUSER:-$(id -un)}
[ "$DB_ROLE" = postgres ] && die "Odoo refuses the postgres role: run as another user or set PGUSER"
if [ "$(as_root runuser -u postgres -- psql -XAtc "select 1 from pg_roles where rolname='$DB_ROLE'" 2>/dev/null)" != 1 ]; then
    say "creating PostgreSQL role $DB_ROLE (Unix socket, peer authentication)"
    as_root runuser -u postgres -- createuser --superuser "$DB_ROLE"
fi

# --- Odoo 18.0 source ------------------------------------------------------------------------
is_odoo18() { [ -f "$1/odoo/release.py" ] && grep -q "^version_info = (18, 0" "$1/odoo/release.py"; }
if [ -n "${ODOO_SRC:-}" ]; then
    is_odoo18 "$ODOO_SRC" || die "ODOO_SRC=$ODOO_SRC is not an Odoo 18.0 source tree (no odoo/release.py with version 18.0)"
elif is_odoo18 "$ODOO_DEFAULT_SRC"; then
    ODOO_SRC=$ODOO_DEFAULT_SRC
else
    say "no Odoo 18.0 at ODOO_SRC or $ODOO_DEFAULT_SRC: cloning Odoo's official 18.0 branch there"
    if ! git clone -q --depth 1 --branch 18.0 "$ODOO_GIT_URL" "$ODOO_DEFAULT_SRC"; then
        die "Odoo 18.0 not found. Provide it with ODOO_SRC=/path/to/odoo (an Odoo 18.0 source tree), or unpack one at $ODOO_DEFAULT_SRC, or let this script clone $ODOO_GIT_URL (needs network)."
    fi
    ODOO_SRC=$ODOO_DEFAULT_SRC
fi
ODOO_SRC=$(cd "$ODOO_SRC" && pwd)
say "Odoo 18.0 source: $ODOO_SRC"

# --- Odoo 17.0: the source of the whole-application tests (it runs in the 18.0 virtualenv) ----
APPS_SRC=${APPS_SOURCE_ODOO_SRC:-/opt/odoo/17.0}
is_odoo_src() { [ -f "$1/odoo/release.py" ] && [ -f "$1/odoo-bin" ]; }
if ! is_odoo_src "$APPS_SRC"; then
    say "no Odoo source at $APPS_SRC: cloning Odoo's official 17.0 branch there"
    git clone -q --depth 1 --branch 17.0 "$ODOO_GIT_URL" "$APPS_SRC" || die "Odoo 17.0 not found at $APPS_SRC (the whole-application tests' source). Unpack one there, set APPS_SOURCE_ODOO_SRC, or let this script clone $ODOO_GIT_URL (needs network)."
fi
say "applications' source (tests): $APPS_SRC"

# --- system libraries the Python requirements build against, and the browser for tours --------
if command -v dpkg >/dev/null 2>&1; then
    apt_install libldap2-dev libsasl2-dev libpq-dev chromium
fi

# --- virtualenv ------------------------------------------------------------------------------
mkdir -p "$BUILD"
[ -x "$VENV/bin/python" ] || { say "creating virtualenv $VENV"; "$PYTHON" -m venv "$VENV"; }
# Odoo pins cbor2==5.4.2, which does not build on Python 3.11; 5.4.6 is the same API.
sed -e 's/^cbor2==5\.4\.2\b/cbor2==5.4.6/' "$ODOO_SRC/requirements.txt" > "$BUILD/odoo-requirements.txt"
stamp=$(cat "$BUILD/odoo-requirements.txt" requirements-dev.txt requirements-odoo-addons.txt | sha256sum | cut -c1-16)
if [ "$(cat "$VENV/.rdm-stamp" 2>/dev/null)" != "$stamp" ]; then
    say "installing Python requirements into $VENV"
    "$VENV/bin/pip" install -q --upgrade pip wheel 'setuptools<81'
    "$VENV/bin/pip" install -q -r "$BUILD/odoo-requirements.txt" -r requirements-dev.txt
    echo "$stamp" > "$VENV/.rdm-stamp"
fi
# Odoo apps of the index, with --no-deps (they declare Odoo, which comes from the source tree),
# in a folder of their own rather than the virtualenv's odoo/addons: an older Odoo started from
# this virtualenv (the 17.0 source of the tests) would find them there and refuse their 18.0
# manifests.
APPS_DIR=$VENV/odoo-apps
apps_stamp=$(sha256sum < requirements-odoo-addons.txt | cut -c1-16)
if [ "$(cat "$APPS_DIR/.rdm-stamp" 2>/dev/null)" != "$apps_stamp" ]; then
    say "installing Odoo apps of the package index into $APPS_DIR"
    "$VENV/bin/pip" uninstall -q -y odoo-addon-queue-job >/dev/null 2>&1 || true
    rm -rf "$APPS_DIR"
    "$VENV/bin/pip" install -q --no-deps --target "$APPS_DIR" -r requirements-odoo-addons.txt
    echo "$apps_stamp" > "$APPS_DIR/.rdm-stamp"
fi
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$ODOO_SRC" > "$site/odoo-src.pth"   # makes `import odoo` find the source tree

# --- addons path and configuration -----------------------------------------------------------
mkdir -p "$BUILD/addons"
ln -sfn "$REPO" "$BUILD/addons/remote_data_migration"
# the glue module for OCA's job queue: an addon of its own, next to the main one
ln -sfn "$REPO/remote_data_migration_queue" "$BUILD/addons/remote_data_migration_queue"
cat > "$BUILD/odoo.conf" <<CONF
[options]
addons_path = $ODOO_SRC/odoo/addons,$ODOO_SRC/addons,$APPS_DIR/odoo/addons,$BUILD/addons
db_user = $DB_ROLE
data_dir = $BUILD/data
CONF
cat > "$BUILD/env.sh" <<ENV
ODOO_SRC=$ODOO_SRC
VENV=$VENV
ENV
say "ready: venv $VENV, config $BUILD/odoo.conf"
