"""The simulated midjourney-proxy relay, written from reference/midjourney-proxy.md."""
