# Set-up and checks for remote_data_migration. See README.md.
.PHONY: setup test test-upgrade lint demo demo-stop bench bench-queue screenshots profile

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh

lint:
	bash scripts/lint.sh

demo:
	. .build/env.sh && "$$VENV/bin/python" scripts/demo.py

demo-stop:
	bash scripts/demo_stop.sh

bench:
	. .build/env.sh && "$$VENV/bin/python" bench/run_bench.py --partners $${PARTNERS:-10000}

test-upgrade:
	. .build/env.sh && "$$VENV/bin/python" scripts/upgrade_check.py

bench-queue:
	. .build/env.sh && "$$VENV/bin/python" bench/queue_bench.py --partners $${PARTNERS:-10000}

screenshots:
	. .build/env.sh && "$$VENV/bin/python" scripts/screenshots.py

# the 10,000-partner bench under py-spy: .build/profile.svg and the table of where the time goes
profile:
	. .build/env.sh && "$$VENV/bin/python" bench/run_bench.py --partners 10000 --no-tags --no-history --profile .build/profile.txt
	. .build/env.sh && "$$VENV/bin/python" bench/profile_report.py .build/profile.txt .build/profile.svg
