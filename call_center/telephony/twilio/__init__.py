"""The Twilio provider (production): tokens, TwiML, signed webhooks, recordings copied into our store."""
