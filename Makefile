# Set-up and checks for remote_data_migration. See README.md.
.PHONY: setup test lint

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh

lint:
	bash scripts/lint.sh
