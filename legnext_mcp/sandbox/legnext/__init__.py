"""The simulated Legnext API, written from legnext-docs (08-29) and independent of the client."""
