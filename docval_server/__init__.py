"""DocVal WebSocket API v2 server (Autobahn/Twisted). See README.md."""
