"""Reading the project's YAML data files, with errors that name the file."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import yaml


class DataFileError(ValueError):
    """A data file is missing, unreadable or not shaped as the code expects."""


def load_mapping(path: Path) -> Dict[str, Any]:
    """Loads a YAML file whose top level must be a mapping."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise DataFileError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise DataFileError(f"{path}: expected a mapping at the top level")
    return data
