# make run   - set up (.venv, install, train if needed) and start the assistant
# make test  - set up and run every test (unit, Rasa data validation, conversation
#              tests, NLU evaluation, end-to-end through the running server)
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/assistant.tar.gz
TRAIN_DATA := data/nlu data/rules data/stories
TRAIN_INPUTS := config.yml domain.yml $(wildcard data/nlu/*.yml data/rules/*.yml data/stories/*.yml) \
	$(wildcard bot/components/*.py) $(wildcard policy/*.py) data/lexicons/guardrail.yml $(wildcard data/guardrail/*.yml)
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# No telemetry or error reports leave the machine.
export RASA_TELEMETRY_ENABLED := false

.PHONY: run test bench install browser train validate lint eval lock clean

run: $(MODEL)
	scripts/run.sh

test: install lint browser
	$(PY) -m pytest

install: $(VENV)/.installed

$(VENV)/.installed: requirements/lock.txt requirements/lock-py310.txt scripts/install.sh
	scripts/install.sh
	touch $@

# Debian's chromium and chromium-driver for the widget's end-to-end tests (apt-get).
browser:
	scripts/install-browser.sh

# Trains only when the training data, config or custom components changed.
train: $(MODEL)

$(MODEL): $(VENV)/.installed $(TRAIN_INPUTS)
	@echo "==> Training the assistant (a few minutes on 2 cores)"
	$(RASA) train --config config.yml --domain domain.yml --data $(TRAIN_DATA) \
		--out models --fixed-model-name assistant
	@touch $@

# Latency, throughput, memory and training time next to a stock `rasa init` assistant,
# written to docs/benchmarks.md (needs PostgreSQL and Redis for the two-instance run).
bench: $(MODEL)
	$(PY) -m bench

# Scores the guardrail on the development set through the trained assistant.
eval: $(MODEL)
	$(PY) -m bot eval

validate: install
	$(RASA) data validate --config config.yml --domain domain.yml --data $(TRAIN_DATA) --fail-on-warnings

lint: install
	$(VENV)/bin/ruff check bot actions policy tests bench

# Re-resolves the lock files from requirements/base.in (needs PyPI, python3.11 and python3.10).
lock:
	scripts/lock.sh python3.11 requirements/lock.txt
	scripts/lock.sh python3.10 requirements/lock-py310.txt

clean:
	rm -rf models .rasa results .pytest_cache
