"""The API's operations, gathered: each module adds its own to the ``api`` blueprint, and
``init_app`` registers them, the OpenAPI document and the API's pages on the application."""

from __future__ import annotations

from flask import Flask

from exchange import uow
from exchange.api import (  # noqa: F401 - each module adds its operations to ``blp``
    account_routes,
    auth_routes,
    case_routes,
    directory_routes,
    documents,
    exchange_routes,
    person_routes,
    reference_routes,
    request_routes,
)
from exchange.api.blueprint import PREFIX, ExchangeApi, blp, lost_race, refused
from exchange.extensions import csrf


def init_app(app: Flask) -> None:
    """Register the API on ``app``: its operations, its OpenAPI document, no CSRF (no cookie)."""
    app.config.update(
        API_TITLE="The Exchange",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "security": [{"bearer": []}],
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
        },
    )
    api = ExchangeApi()
    api.init_app(app)
    app.extensions["exchange_api"] = api
    csrf.exempt(blp)
    api.register_blueprint(blp)
    uow.refusal_responder(blp)(refused)
    uow.race_responder(blp)(lost_race)
    app.register_blueprint(account_routes.bp)
