# Set-up and checks for remote_data_migration. See README.md.
.PHONY: setup test test-upgrade lint demo demo-stop bench

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh

lint:
	bash scripts/lint.sh

demo:
	. .build/env.sh && "$$VENV/bin/python" scripts/demo.py

demo-stop:
	pkill -f -- "odoo-bi[n] .*-d rdm_demo" || true

bench:
	. .build/env.sh && "$$VENV/bin/python" bench/run_bench.py --partners $${PARTNERS:-10000}

test-upgrade:
	. .build/env.sh && "$$VENV/bin/python" scripts/upgrade_check.py
