"""The guardrail: never advice on DIY settings or doses, and 112 first in an emergency.

- `lexicon`: folding and phrase matching over words and their spaCy lemmas
- `detectors`: the layered settings and emergency detectors, with reasons
- `guardrail_policy`: the Rasa policy that acts on them, above every other policy
"""
