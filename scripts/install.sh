#!/usr/bin/env bash
# Creates .venv and installs the pinned dependencies, then rasa and rasa-sdk.
#
# rasa 3.6.21 and rasa-sdk 3.6.2 declare Requires-Python <3.11. On Python 3.11
# they are installed with --no-deps --ignore-requires-python, their dependencies
# coming from requirements/lock.txt (which pins cp311 wheels for the
# python_version<"3.11" markers). On Python 3.10 requirements/lock-py310.txt is
# used and pip checks Requires-Python as usual.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
RASA_VERSION=3.6.21
RASA_SDK_VERSION=3.6.2
DA_MODEL_URL=https://github.com/explosion/spacy-models/releases/download/da_core_news_sm-3.4.0/da_core_news_sm-3.4.0-py3-none-any.whl

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  step "Creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

minor=$("$PY" -c 'import sys; print(sys.version_info[1])')
ignore_python=()
lock=requirements/lock-py3$minor.txt
if [ "$minor" -ge 11 ]; then
  ignore_python=(--ignore-requires-python)
  lock=requirements/lock.txt
fi
if [ ! -f "$lock" ]; then
  echo "No lock file for Python 3.$minor ($lock). Use Python 3.11 or 3.10, e.g. PYTHON=python3.11 make test." >&2
  exit 1
fi

step "Installing pinned dependencies ($lock); this takes a few minutes the first time"
"${PIP[@]}" install --progress-bar on -r "$lock"

step "Installing rasa $RASA_VERSION and rasa-sdk $RASA_SDK_VERSION without their dependency resolution"
"${PIP[@]}" install --no-deps "${ignore_python[@]}" "rasa==$RASA_VERSION" "rasa-sdk==$RASA_SDK_VERSION"

if "$PY" -c 'import da_core_news_sm' 2>/dev/null; then
  step "spaCy model da_core_news_sm is installed"
else
  step "Trying to install spaCy model da_core_news_sm (needs internet access to spaCy's release files)"
  if timeout 60 "${PIP[@]}" install --no-deps --timeout 15 --retries 0 "$DA_MODEL_URL" >/dev/null 2>&1; then
    echo "    da_core_news_sm installed."
  else
    echo "    Could not fetch da_core_news_sm; going on without it."
    echo "    The assistant will use a blank Danish pipeline with lookup lemmas and say so in its log."
  fi
fi
step "Installation done"
