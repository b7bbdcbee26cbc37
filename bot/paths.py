"""Where the project's data files live, so that no module hard-codes a path."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("BOT_DATA_DIR", ROOT / "data"))
CONTENT = DATA / "content"
LEXICONS = DATA / "lexicons"

POSITION_PAPER = CONTENT / "position_paper.yml"
REPLIES = CONTENT / "replies.yml"
LANGUAGE_LEXICON = LEXICONS / "language.yml"
