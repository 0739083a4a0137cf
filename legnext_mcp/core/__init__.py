"""Dialect-neutral core: operations in, a normalized ``Job`` out, the error tree, limits and pure policy,
the clock and the Midjourney prompt grammar. Imports nothing above it (see ARCHITECTURE.md)."""
