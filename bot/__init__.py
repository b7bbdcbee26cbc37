"""Diabetesforeningen's chat assistant on looping: content, language and NLU pieces.

The Rasa project around it (config.yml, domain.yml, data/) wires these into a bot;
`actions/` and `policy/` use them at run time.
"""

from bot.privacy import logs as _logs

# Every process that runs our code imports `bot` first (the Rasa server for our
# components, channels and tracker store; the action server for the actions), so this
# redacts its log records before any conversation reaches a logger.
_logs.install()
