"""Files the CLI reads whole for the user: JSON (routing rules). ERP snapshots are
streamed instead (cli/snapshot_import.py).

JSON is decoded as CSV is (see entrypoints/csv_text.py: UTF-8 with or without BOM, UTF-16
with BOM), and a file that cannot be used is one sentence naming it. Positions follow
the file as an editor shows it: 1-based line and column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omnihub.entrypoints.cli.errors import CliError
from omnihub.entrypoints.csv_text import decode_csv


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise CliError(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_json_file(path: Path) -> Any:
    text = decode_csv(read_bytes(path), name=str(path))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg} (offset {exc.pos})") from None
