"""Multicast DNS (python-zeroconf): the server announces itself with DNS-SD, and ``doctor mdns`` browses.

Announced, while ``serve --mdns`` runs (connectivity.md §4.2 for the zeroconf API):
  ``_ocpp._tcp.local.``  the OCPP port; TXT ``path=/ocpp``, ``versions=ocpp1.6,ocpp2.0.1``, ``scheme=ws|wss``
  ``_http._tcp.local.``  the REST API and dashboard; TXT ``path=/``, ``api=/api/v1``
both with ``product=chargewise``. No registry lists an OCPP service type; ``_ocpp._tcp`` is our choice, and what
apps and home-automation integrations can browse for.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from dataclasses import dataclass, field

import ifaddr
from zeroconf import InterfaceChoice, IPVersion, ServiceInfo, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from chargewise.doctor.discovery import PRODUCT, Announcement

log = logging.getLogger(__name__)
OCPP_TYPE = "_ocpp._tcp.local."
HTTP_TYPE = "_http._tcp.local."
# what doctor mdns browses: our two, and chargers' own services (OpenEVSE, EEBUS/SHIP; connectivity.md §4.2)
BROWSED = (OCPP_TYPE, HTTP_TYPE, "_openevse._tcp.local.", "_ship._tcp.local.")
ANY_ADDRESS = ("", "0.0.0.0", "::")


def local_addresses() -> tuple[str, ...]:
    """This machine's IPv4 addresses, loopback included (the doctor compares them with the charger's subnet)."""
    return tuple(str(ip.ip) for adapter in ifaddr.get_adapters() for ip in adapter.ips if ip.is_IPv4)


@dataclass(kw_only=True)
class Advertiser:
    """Announces one server; ``await start()`` once it listens, ``await stop()`` before it closes (goodbyes)."""

    host: str  # the address the server listens on; 0.0.0.0: announce every non-loopback IPv4 address
    ocpp_port: int
    http_port: int | None = None
    secure: bool = False
    instance: str = ""  # default "chargewise on HOSTNAME (PORT)"
    _zeroconf: AsyncZeroconf | None = None
    _infos: list[ServiceInfo] = field(default_factory=list)

    async def start(self) -> None:
        """Register the services (probing for a unique name first, ~1 s); raises OSError without multicast."""
        everywhere = self.host in ANY_ADDRESS
        addresses = (
            [a for a in local_addresses() if not ipaddress.ip_address(a).is_loopback] if everywhere else [self.host]
        )
        interfaces: InterfaceChoice | list[str] = InterfaceChoice.All if everywhere else [self.host]
        self._zeroconf = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
        name = self.instance or f"{PRODUCT} on {socket.gethostname()} ({self.ocpp_port})"
        server = f"{socket.gethostname().split('.')[0]}.local."
        packed = [socket.inet_aton(a) for a in addresses]
        self._infos = [
            ServiceInfo(
                OCPP_TYPE,
                f"{name}.{OCPP_TYPE}",
                port=self.ocpp_port,
                addresses=packed,
                server=server,
                properties={
                    "path": "/ocpp",
                    "versions": "ocpp1.6,ocpp2.0.1",
                    "product": PRODUCT,
                    "scheme": "wss" if self.secure else "ws",
                },
            )
        ]
        if self.http_port is not None:
            self._infos.append(
                ServiceInfo(
                    HTTP_TYPE,
                    f"{name}.{HTTP_TYPE}",
                    port=self.http_port,
                    addresses=packed,
                    server=server,
                    properties={"path": "/", "api": "/api/v1", "product": PRODUCT},
                )
            )
        zeroconf = self._zeroconf
        pending = [await zeroconf.async_register_service(info, allow_name_change=True) for info in self._infos]
        await asyncio.gather(*pending)  # both probe and announce at once
        log.info("mDNS: announced %s on %s", name, ", ".join(addresses))

    async def stop(self) -> None:
        if self._zeroconf is None:
            return
        await self._zeroconf.async_unregister_all_services()  # goodbye packets: browsers forget us at once
        await self._zeroconf.async_close()
        self._zeroconf = None


async def advertise(*, host: str, ocpp_port: int, http_port: int | None, secure: bool) -> Advertiser | None:
    """Start announcing, or log why not and return None: the server runs on without discovery."""
    advertiser = Advertiser(host=host, ocpp_port=ocpp_port, http_port=http_port, secure=secure)
    try:
        await advertiser.start()
    except (OSError, ValueError) as exc:  # no multicast route, an address zeroconf cannot bind
        log.warning("mDNS: cannot announce the server (%s); chargers and apps must be given its address", exc)
        await advertiser.stop()
        return None
    return advertiser


async def browse(
    *, seconds: float, interfaces: list[str] | None = None, types: tuple[str, ...] = BROWSED
) -> tuple[Announcement, ...]:
    """Listen for ``seconds`` and resolve every instance heard; raises OSError when multicast is unavailable."""
    zeroconf = AsyncZeroconf(interfaces=interfaces or InterfaceChoice.All, ip_version=IPVersion.V4Only)
    heard: dict[str, str] = {}

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change is not ServiceStateChange.Removed:
            heard[name] = service_type
        else:
            heard.pop(name, None)

    browser = AsyncServiceBrowser(zeroconf.zeroconf, list(types), handlers=[on_change])
    try:
        await asyncio.sleep(seconds)
        found = [await _resolve(zeroconf, service_type, name) for name, service_type in sorted(heard.items())]
    finally:
        await browser.async_cancel()
        await zeroconf.async_close()
    return tuple(found)


async def _resolve(zeroconf: AsyncZeroconf, service_type: str, name: str) -> Announcement:
    info = AsyncServiceInfo(service_type, name)
    await info.async_request(zeroconf.zeroconf, 1500)
    txt = tuple(
        (key.decode(errors="replace"), (value or b"").decode(errors="replace"))
        for key, value in (info.properties or {}).items()
    )
    return Announcement(
        type=service_type,
        name=name,
        server=info.server or "",
        port=info.port or 0,
        addresses=tuple(info.parsed_addresses()),
        txt=txt,
    )
