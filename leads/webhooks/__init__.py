"""Outgoing webhooks: lead events, signed with HMAC-SHA256, sent by Celery."""
