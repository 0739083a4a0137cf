"""The APIs behind the tools: ``legnext`` (Legnext's own API) and ``mj-proxy`` (the midjourney-proxy
"/mj/submit/*" protocol relays speak). Each is one folder implementing ``base.Dialect``."""

DIALECTS = ("legnext",)


def operations_of(name: str) -> frozenset[type]:
    """The operations a dialect can run (without connecting to it: the tool catalog is built before)."""
    from legnext_mcp.dialects.legnext.dialect import LegnextDialect

    if name != "legnext":
        raise ValueError(f"unknown dialect {name!r}")
    return LegnextDialect.OPERATIONS
