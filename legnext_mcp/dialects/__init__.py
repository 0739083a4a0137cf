"""The APIs behind the tools: ``legnext`` (Legnext's own API) and ``mj-proxy`` (the midjourney-proxy
"/mj/submit/*" protocol relays speak). Each is one folder implementing ``base.Dialect``."""

DIALECTS = ("legnext", "mj-proxy")
#: What Legnext's API can run: every operation (``dialects.legnext.dialect.OPERATIONS``; a test binds the two).
LEGNEXT_OPERATIONS = frozenset({"Imagine", "Variation", "Upscale", "Reroll", "Blend", "Describe", "Shorten", "Pan",
                                "Outpaint", "Inpaint", "Remix", "Edit", "UploadPaint", "Retexture",
                                "RemoveBackground", "Enhance", "EnhanceUpscale", "Video", "ExtendVideo",
                                "VideoUpscale"})
#: What the midjourney-proxy protocol can run (``dialects.mjproxy.dialect.ROWS``; a test binds the two).
MJ_PROXY_OPERATIONS = frozenset({"Imagine", "Describe", "Shorten", "Blend", "Upscale", "Variation", "Reroll", "Pan",
                                 "Outpaint", "Inpaint", "Remix", "Retexture", "Video",
                                 "ExtendVideo"})


def operations_of(name: str) -> frozenset[str]:
    """The names of the operations a dialect can run, known without importing it or the operations (tools/list
    is answered before any connection; tests bind this to each dialect's own ``OPERATIONS``)."""
    if name == "legnext":
        return LEGNEXT_OPERATIONS
    if name == "mj-proxy":
        return MJ_PROXY_OPERATIONS
    raise ValueError(f"unknown dialect {name!r}")
