"""The Legnext API (https://api.legnext.ai/api): wire models, one row per endpoint, the typed client and
the dialect. Kept light: importing this package loads nothing but this constant."""

DEFAULT_BASE_URL = "https://api.legnext.ai/api"
