#!/usr/bin/env bash
# make test: a fresh test database with the addon installed (its log must be clean), then the
# whole suite with pytest-odoo. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BUILD=$REPO/.build
[ -f "$BUILD/env.sh" ] || { echo "[test] run 'make setup' first" >&2; exit 2; }
# shellcheck source=/dev/null
. "$BUILD/env.sh"
TEST_DB=${TEST_DB:-rdm_test}
# the applications whole-app migrations are tested into (a target with them, no demo data)
TEST_APPS=${TEST_APPS:-sale_management,purchase,stock}
ODOO=("$VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$BUILD/odoo.conf")

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
    echo "[test] (re)creating database $TEST_DB with remote_data_migration installed"
    dropdb --if-exists "$TEST_DB"
    rm -rf "$BUILD/data/filestore/$TEST_DB"
    log=$BUILD/install.log
    rm -f "$log"
    "${ODOO[@]}" -d "$TEST_DB" -i "remote_data_migration,$TEST_APPS" --without-demo=all \
        --stop-after-init --log-level=info --logfile="$log"
    if grep -E "^[0-9-]+ [0-9:,]+ [0-9]+ (WARNING|ERROR|CRITICAL) " "$log"; then
        echo "[test] FAILED: the install log ($log) has the WARNING/ERROR lines above" >&2
        exit 1
    fi
    echo "[test] install log clean ($(wc -l < "$log") lines)"
fi

cd "$BUILD/addons"
exec "$VENV/bin/python" -m pytest --odoo-config "$BUILD/odoo.conf" --odoo-http \
    --odoo-database "$TEST_DB" remote_data_migration "$@"
