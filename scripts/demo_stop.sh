#!/usr/bin/env bash
# make demo-stop: stop exactly the servers `make demo` started (their process groups, from
# the ids it wrote), nothing else.
set -u
pids_file="$(dirname "$0")/../.build/demo.pids"
if [ ! -s "$pids_file" ]; then
    echo "no demo running (no $pids_file)"
    exit 0
fi
while read -r pid; do
    [ -n "$pid" ] || continue
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
        echo "stopped $pid"
    fi
done < "$pids_file"
rm -f "$pids_file"
