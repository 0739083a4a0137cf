"""The APIs behind the tools: ``legnext`` (Legnext's own API) and ``mj-proxy`` (the midjourney-proxy
"/mj/submit/*" protocol relays speak). Each is one folder implementing ``base.Dialect``."""

DIALECTS = ("legnext", "mj-proxy")
#: What the midjourney-proxy protocol can run (``dialects.mjproxy.dialect.ROWS``; a test binds the two).
MJ_PROXY_OPERATIONS = frozenset({"Imagine", "Describe", "Shorten", "Blend", "Upscale", "Variation", "Reroll", "Pan",
                                 "Outpaint", "Inpaint", "Remix", "Retexture", "Video",
                                 "ExtendVideo"})


def operations_of(name: str) -> frozenset[str]:
    """The names of the operations a dialect can run, known without importing it (the tool catalog is built
    before any connection; tests bind this to each dialect's own ``OPERATIONS``)."""
    from legnext_mcp.core.operations import ALL_OPERATIONS

    if name == "legnext":
        return frozenset(op.__name__ for op in ALL_OPERATIONS)
    if name == "mj-proxy":
        return MJ_PROXY_OPERATIONS
    raise ValueError(f"unknown dialect {name!r}")
