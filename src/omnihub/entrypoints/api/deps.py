"""Request-scoped access to the Hub."""

from fastapi import Request

from omnihub.hub import Hub


def get_hub(request: Request) -> Hub:
    return request.app.state.hub
