"""An annex larger than an envelope carries to a peer node parks its message at once, saying
so, instead of being sealed into an envelope the peer's inbox would refuse."""

from __future__ import annotations

import dataclasses

from exchange.extensions import db
from exchange.federation.cli import delivery_config
from exchange.federation.delivery import deliver_due
from exchange.federation.models import Delivery
from tests.federation.test_offline_carriage import outbox, transmitted


def test_an_annex_over_the_carriage_limit_parks_its_message(app, abuja, make_user, make_request):
    request = transmitted(make_user, make_request)
    size = request.annexes[0].size
    config = dataclasses.replace(delivery_config(), max_carried_bytes=size - 1)
    assert deliver_due(db.session, config) == {"parked": 1}
    message = outbox(request.conversation_id)
    assert message.state == "undeliverable"
    delivery = db.session.get(Delivery, message.id)
    assert delivery is not None and delivery.envelope is None  # never sealed
    assert delivery.last_error.startswith(f"annex_too_large: {size} bytes")


def test_the_carriage_limit_is_the_ordinary_body_limit(app):
    with app.app_context():
        config = delivery_config()
    settings = app.config["EXCHANGE"]
    assert config.max_carried_bytes == settings.max_upload_mb << 20
    assert config.max_annex_bytes == settings.max_annex_mb << 20
