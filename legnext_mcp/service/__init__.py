"""The service layer, with no MCP in it: quote (check, parent, prepare, price, budget), submit and record
(intent first), wait, and outputs (files, cache, previews). Used by the MCP server and the skill scripts."""
