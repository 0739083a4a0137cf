"""The midjourney-proxy "/mj/submit/*" protocol (novicezk and trueai-org midjourney-proxy, new-api relays)."""
