# /// script
# requires-python = ">=3.11"
# dependencies = ["legnext-mcp==0.1.0"]
# ///
"""Check the API key and show the balance (or, on a relay, how the key was verified). Never prints the key whole.

Usage: python verify_api_key.py [--json]        Exit: 0 valid, 2 no key, 4 refused or API error.
"""

from __future__ import annotations

import argparse
import sys

import _find_legnext  # noqa: F401  # finds the package: installed, this checkout's, or `legnext-mcp`'s on PATH

from legnext_mcp.service.runtime import Services
from legnext_mcp.skill_cli import EXIT_OK, add_dialect, emit, mask, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dialect(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args()

    async def check(svc: Services) -> int:
        account = await svc.dialect.account()
        key = mask(svc.settings.api_key or "")
        value = {"valid": True, "key": key, "api": svc.dialect.name, "total_points": account.available,
                 "unit": account.unit, "balance_usd": account.usd,
                 **{f"available_{name}": amount for name, amount in account.parts.items()},
                 "plan": account.plan, "verified_by": account.verified_by}

        def human() -> None:
            print(f"API key {key} is valid ({svc.dialect.service}).")
            if account.available is not None:
                parts = " + ".join(f"{v} {k}" for k, v in account.parts.items())
                print(f"Balance: {account.available} {account.unit}" + (f" (${account.usd:.2f})" if account.usd else "")
                      + (f" = {parts}" if parts else "") + "; an image job costs 80.")
            if account.verified_by:
                print(account.verified_by)

        emit(value, args.json, human)
        return EXIT_OK

    return run(check, as_json=args.json, dialect=args.dialect)


if __name__ == "__main__":
    sys.exit(main())
