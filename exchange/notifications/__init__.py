"""Notifications: what awaits a person, listed in the portal and told by e-mail.

A move of a request (a ``RequestEvent``) or a message received about one adds a ``Notification``
for each person it concerns, in the same unit of work as the move (``events``); a background
pass sends the e-mails from those rows, the transactional outbox (``outbox``).
"""
