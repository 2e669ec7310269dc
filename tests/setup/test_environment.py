"""The pinned environment works the way Home Assistant 2025.4.4 runs.

`constraints.txt` pins every package of `.venv`. Home Assistant ships its own pins
(`homeassistant/package_constraints.txt`, what its installer enforces); a pin that disagrees
with them is a combination Home Assistant never ran with. `pycares` 5 beside Home Assistant's
`aiodns` 3.2.0 was one: every host name lookup failed, so Home Assistant started from the venv
could not reach `http://localhost:8799`.
"""

from __future__ import annotations

import asyncio
from importlib import metadata
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp_asyncmdnsresolver.api import AsyncDualMDNSResolver
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from zeroconf.asyncio import AsyncZeroconf

REPO_ROOT = Path(__file__).resolve().parents[2]

DEPARTURES = {
    "protobuf": "onnx 1.23 needs protobuf >= 6.31.1; Home Assistant's core never imports it",
}
"""Packages pinned against Home Assistant's constraints, and why."""


def ha_constraints() -> dict[str, list[Requirement]]:
    """Return Home Assistant's own pins, by package name."""
    files = metadata.files("homeassistant") or []
    path = next(f for f in files if f.name == "package_constraints.txt")
    pins: dict[str, list[Requirement]] = {}
    for line in Path(str(path.locate())).read_text(encoding="utf-8").splitlines():
        text = line.split("#")[0].strip()
        if text and not text.startswith("-"):
            requirement = Requirement(text)
            pins.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    return pins


def our_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_pins_agree_with_home_assistants_constraints() -> None:
    ha = ha_constraints()
    disagreeing = {
        name: f"{version} (Home Assistant: {', '.join(str(r.specifier) for r in ha[name])})"
        for name, version in our_pins().items()
        if name in ha
        and name not in DEPARTURES
        and not all(r.specifier.contains(version, prereleases=True) for r in ha[name])
    }
    assert disagreeing == {}


def test_installed_versions_are_the_pinned_ones() -> None:
    """The venv is what constraints.txt says (script/setup reinstalls when the pins change)."""
    pins = our_pins()
    installed = {name: metadata.version(name) for name in pins if _installed(name)}
    assert {name: v for name, v in installed.items() if v != pins[name]} == {}


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


async def _hello(_: web.Request) -> web.Response:
    return web.Response(text="ok")


def test_localhost_resolves_through_home_assistants_resolver() -> None:
    """Resolve and fetch `http://localhost:PORT` the way Home Assistant's sessions do.

    `homeassistant.helpers.aiohttp_client` gives every session an `AsyncDualMDNSResolver`:
    aiohttp's aiodns resolver, plus mDNS for `.local` names (zeroconf here only on loopback).
    """

    async def fetch() -> tuple[list[str], str]:
        app = web.Application()
        app.router.add_get("/", _hello)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        zeroconf = AsyncZeroconf(interfaces=["127.0.0.1"])
        resolver = AsyncDualMDNSResolver(async_zeroconf=zeroconf)
        try:
            hosts = await resolver.resolve("localhost", port)
            connector = aiohttp.TCPConnector(resolver=resolver)
            async with (
                aiohttp.ClientSession(connector=connector) as session,
                session.get(f"http://localhost:{port}/") as response,
            ):
                return [host["host"] for host in hosts], await response.text()
        finally:
            await resolver.close()
            await zeroconf.async_close()
            await runner.cleanup()

    addresses, body = asyncio.run(fetch())
    assert "127.0.0.1" in addresses
    assert body == "ok"
