# /// script
# requires-python = ">=3.11"
# dependencies = ["legnext-mcp"]
# ///
"""Check the Legnext API key and show the balance. Prints the key masked, never whole.

Usage: python verify_api_key.py [--json]        Exit: 0 valid, 2 no key, 4 refused or API error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import legnext_mcp  # noqa: F401
except ImportError:  # run from a checkout without installing: use the repository copy
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from legnext_mcp.api import LegnextClient
from legnext_mcp.skill_cli import EXIT_OK, emit, mask, run, setting


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args()

    async def check(client: LegnextClient) -> int:
        balance = await client.balance()
        key = mask(setting("LEGNEXT_API_KEY") or "")
        value = {"valid": True, "key": key, "total_points": balance.total_points,
                 "balance_usd": balance.balance_usd, "available_credits": balance.available_credits,
                 "available_points": balance.available_points, "low_balance_alert": balance.low_balance_alert}
        emit(value, args.json, lambda: print(
            f"API key {key} is valid.\nBalance: {balance.total_points} points (${balance.balance_usd:.2f}); "
            f"an image job costs 80."))
        return EXIT_OK

    return run(check, as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
