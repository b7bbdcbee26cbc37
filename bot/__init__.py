"""Diabetesforeningen's chat assistant on looping: content, language and NLU pieces.

The Rasa project around it (config.yml, domain.yml, data/) wires these into a bot;
`actions/` and `policy/` use them at run time.
"""
