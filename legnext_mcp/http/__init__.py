"""HTTP: the one request loop (never pay twice, retries, auth, caps, redaction) and the credential-free,
address-checked download client. Beside ``core``; used by the dialects."""
