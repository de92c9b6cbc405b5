"""Desktop PC/SC client for the DocVal WebSocket API v2. See README.md."""
