#!/usr/bin/env bash
# Starts the action server and the Rasa server (REST channel + HTTP API) on loopback,
# and stops both cleanly on Ctrl-C or SIGTERM (to this script or to `make run`).
# RASA_INTERFACE other than loopback needs RASA_TOKEN (python -m bot serve refuses otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
MODEL=${MODEL:-models/assistant.tar.gz}
RASA_PORT=${RASA_PORT:-5005}
ACTION_PORT=${ACTION_PORT:-5055}
RASA_INTERFACE=${RASA_INTERFACE:-127.0.0.1}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export RASA_TELEMETRY_ENABLED=false

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping the assistant..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Stopped."
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

# Retention: delete what is older than the retention period now, then once a day.
"$VENV/bin/python" -m bot purge || echo "Purge failed; conversations older than the retention period may remain." >&2
(
  trap 'kill "$nap" 2>/dev/null; exit 0' TERM
  while true; do sleep 86400 & nap=$!; wait "$nap"; "$VENV/bin/python" -m bot purge; done
) &
pids+=($!)
"$VENV/bin/python" -m bot actions --port "$ACTION_PORT" &
pids+=($!)
export RASA_URL=${RASA_URL:-http://127.0.0.1:$RASA_PORT}
WIDGET_PORT=${WIDGET_PORT:-8080}
export WIDGET_ALLOWED_ORIGINS=${WIDGET_ALLOWED_ORIGINS:-http://127.0.0.1:$WIDGET_PORT,http://localhost:$WIDGET_PORT}
credentials=$("$VENV/bin/python" -m bot credentials --out .rasa/credentials.yml)
"$VENV/bin/python" -m bot serve --interface "$RASA_INTERFACE" --port "$RASA_PORT" \
  --model "$MODEL" --credentials "$credentials" --endpoints endpoints.yml &
pids+=($!)
"$VENV/bin/python" -m bot.widget_server --port "$WIDGET_PORT" --socket-url "http://127.0.0.1:$RASA_PORT" &
pids+=($!)
HELPLINE_PORT=${HELPLINE_PORT:-8090}
# The staff console (log in with a staff account; on loopback only).
"$VENV/bin/python" -m bot helpline serve --host 127.0.0.1 --port "$HELPLINE_PORT" &
pids+=($!)

running() { for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || return 1; done; }
echo "Waiting for the assistant to come up on http://127.0.0.1:$RASA_PORT ..."
for _ in $(seq 1 180); do
  running || { echo "A server did not start (see the messages above)." >&2; exit 1; }
  if "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$RASA_PORT/', timeout=1)" 2>/dev/null; then
    break
  fi
  sleep 1
done
cat <<MSG

The assistant is running.
  Website chat widget:    http://127.0.0.1:$WIDGET_PORT/   (English demo: /en.html)
  Helpline console:       http://127.0.0.1:$HELPLINE_PORT/   (staff log in with their own account)
                          make an account: $VENV/bin/python -m bot helpline add-staff NAME
                          CLI: $VENV/bin/python -m bot helpline list
  Chat in this terminal:  $VENV/bin/python -m bot chat        (in another terminal)
  REST channel:           curl -s -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook \\
                            -H 'Content-Type: application/json' -d '{"sender": "me", "message": "hej"}'
  Tracker (slots):        http://127.0.0.1:$RASA_PORT/conversations/me/tracker   (add ?token=\$RASA_TOKEN if set)
  Conversations stored:   ${TRACKER_STORE_URL:-sqlite:///var/conversations.db} (redacted), kept $("$VENV/bin/python" -c 'from bot.privacy.retention import retention_days; print(retention_days())') days
Press Ctrl-C to stop.
MSG
# Stop when either server exits, or when whoever started us (make) is gone:
# a SIGTERM to `make run` does not reach this script by itself.
parent=$PPID
while running && kill -0 "$parent" 2>/dev/null; do
  sleep 1
done
