"""Prepare the development Home Assistant: onboard it and add a Blink entry.

Run by scripts/develop once Home Assistant answers. Onboarding goes through Home
Assistant's onboarding API with a throwaway owner account (printed, for logging in);
the Blink entry goes through the integration's real config flow over the REST API,
exactly as the UI would drive it. Nothing happens twice: an onboarded instance or an
existing entry is left alone.
"""

import argparse
import asyncio
from pathlib import Path
import sys
from typing import Any

import aiohttp

DOMAIN = "blink_wallet"
USERNAME = "dev"
PASSWORD = "dev-password"  # noqa: S105 - a throwaway local account, printed for the user


class Bootstrap:
    """Talks to one Home Assistant over HTTP."""

    def __init__(
        self, session: aiohttp.ClientSession, base: str, token_file: Path
    ) -> None:
        """Remember where Home Assistant is and where the token is kept."""
        self.session = session
        self.base = base.rstrip("/")
        self.client_id = f"{self.base}/"
        self.token_file = token_file
        self.token: str | None = None

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:  # noqa: ANN401
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.request(
            method, f"{self.base}{path}", headers=headers, **kwargs
        ) as response:
            response.raise_for_status()
            return await response.json()

    async def _token(self, data: dict[str, str]) -> None:
        result = await self._json(
            "POST", "/auth/token", data={"client_id": self.client_id, **data}
        )
        self.token = result["access_token"]
        if "refresh_token" in result:
            self.token_file.write_text(result["refresh_token"], "utf-8")

    async def onboard(self) -> None:
        """Create the owner account and finish onboarding, or log in again."""
        steps = await self._json("GET", "/api/onboarding")
        if not next(s for s in steps if s["step"] == "user")["done"]:
            created = await self._json(
                "POST",
                "/api/onboarding/users",
                json={
                    "client_id": self.client_id,
                    "name": "Developer",
                    "username": USERNAME,
                    "password": PASSWORD,
                    "language": "en",
                },
            )
            await self._token(
                {"grant_type": "authorization_code", "code": created["auth_code"]}
            )
            for step in ("core_config", "analytics"):
                await self._json("POST", f"/api/onboarding/{step}", json={})
            await self._json(
                "POST",
                "/api/onboarding/integration",
                json={"client_id": self.client_id, "redirect_uri": self.client_id},
            )
        elif self.token_file.exists():
            await self._token(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": self.token_file.read_text("utf-8").strip(),
                }
            )

    async def add_entry(self, api_key: str, api_url: str, ws_url: str) -> str:
        """Add the Blink entry through the config flow, unless one exists."""
        entries = await self._json(
            "GET", f"/api/config/config_entries/entry?domain={DOMAIN}"
        )
        if entries:
            return "a Blink Wallet entry exists already"
        flow = await self._json(
            "POST", "/api/config/config_entries/flow", json={"handler": DOMAIN}
        )
        flow = await self._json(
            "POST",
            f"/api/config/config_entries/flow/{flow['flow_id']}",
            json={"api_key": api_key, "environment": "custom"},
        )
        flow = await self._json(
            "POST",
            f"/api/config/config_entries/flow/{flow['flow_id']}",
            json={
                "api_url": api_url,
                "ws_url": ws_url,
                "lightning_address_domain": "blink.localhost",
            },
        )
        if flow.get("type") != "create_entry":
            return f"the config flow ended with {flow.get('type')}: {flow.get('errors') or flow.get('reason')}"
        return f"added Blink Wallet entry {flow['title']!r}"


async def main() -> int:
    """Onboard, then add the entry; print what a developer needs to know."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:8123")
    parser.add_argument("--token-file", type=Path, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--ws-url", required=True)
    args = parser.parse_args()
    async with aiohttp.ClientSession() as session:
        bootstrap = Bootstrap(session, args.url, args.token_file)
        await bootstrap.onboard()
        if bootstrap.token is None:
            print(
                "develop: Home Assistant is onboarded by someone else; add the entry in the UI"
            )
            return 0
        print(f"develop: log in as {USERNAME} / {PASSWORD}")
        print(
            f"develop: {await bootstrap.add_entry(args.api_key, args.api_url, args.ws_url)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
