"""Structured logging (structlog): key=value on a terminal, JSON lines in production, and
neither ever carries a credential or a customer's personal data (log_redaction.py).

- Tracebacks are plain: file, line, code and the exception, never the frames' local
  variables. (structlog's ConsoleRenderer prints locals by default when rich is
  installed, and locals are where access tokens, request headers and order payloads
  live.) JSON lines carry them as structured frames, also without locals.
- The standard library's loggers (uvicorn, httpx, apscheduler...) go through the same
  chain: the root handler renders them like structlog's own lines, and every record is
  scrubbed as it is made, for the handlers uvicorn installs itself.
- Redaction runs after the traceback is rendered and before the line is, so it sees
  everything that is printed.
"""

from __future__ import annotations

import logging

import structlog
from structlog.tracebacks import ExceptionDictTransformer

from omnihub.log_redaction import install_record_factory, redact_event


def _exception_renderer(json: bool):
    if json:
        return structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))
    return structlog.processors.format_exc_info  # plain traceback text, no locals


def _renderer(json: bool):
    if json:
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    level_no = logging.getLevelName(level.upper())
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            timestamper,
            _exception_renderer(json),
            redact_event,
            _renderer(json),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level_no),
        cache_logger_on_first_use=True,
    )
    # The standard library's loggers: rendered by the same chain on the root handler.
    handler = logging.StreamHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, structlog.stdlib.add_log_level, timestamper],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _exception_renderer(json), redact_event,
                    _renderer(json)],
    ))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_omnihub", False):  # configured again: one handler, not two
            root.removeHandler(old)
    handler._omnihub = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level_no)
    install_record_factory()
