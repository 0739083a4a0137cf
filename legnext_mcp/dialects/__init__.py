"""The APIs behind the tools: ``legnext`` (Legnext's own API) and ``mj-proxy`` (the midjourney-proxy
"/mj/submit/*" protocol relays speak). Each is one folder implementing ``base.Dialect``; what each can run is
its ``OPERATIONS``, published with the tools in the server's manifest (``server/manifest.json``)."""

DIALECTS = ("legnext", "mj-proxy")
