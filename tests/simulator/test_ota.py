"""The simulated charger's OTA behaviour (``simulator/ota.py``, ``maintenance.py``): slow installs, waiting for
the session to end, failures named by the template or by the image, and real signature checks."""

from __future__ import annotations

import msgspec
import pytest

from chargewise.domain.model import OcppVersion
from chargewise.simulator.clock import iso
from chargewise.simulator.ota import failure, headers, signature_ok
from chargewise.simulator.templates import Ota, load_template
from tests.firmware.signing import Signer

from .pair import Pair
from .test_firmware import visit

V16, V201 = OcppVersion.V16, OcppVersion.V201
URL = "http://csms/firmware/token/fw-2.0.0.bin"


def statuses(p: Pair, action: str = "FirmwareStatusNotification") -> list[str]:
    return [s["status"] for s in p.sent(action)]


def update(p: Pair, version: OcppVersion, *, signed: tuple[str, str] | None = None) -> None:
    if version is V16 and signed is None:
        assert p.call("UpdateFirmware", {"location": URL, "retrieveDate": iso(p.now)}) == {}
        return
    firmware = {"location": URL, "retrieveDateTime": iso(p.now)}
    if signed is not None:
        firmware |= {"signingCertificate": signed[0], "signature": signed[1]}
    action = "SignedUpdateFirmware" if version is V16 else "UpdateFirmware"
    assert p.call(action, {"requestId": 8, "firmware": firmware}) == {"status": "Accepted"}


def booted_version(p: Pair, version: OcppVersion) -> str:
    boot = p.sent("BootNotification")[-1]
    return str(boot["firmwareVersion"] if version is V16 else boot["chargingStation"]["firmwareVersion"])


def test_headers_and_failures() -> None:
    assert headers(b"version=2.0.0\nsimulate=boot-loop\n\x00\x01binary") == {"version": "2.0.0",
                                                                            "simulate": "boot-loop"}  # fmt: skip
    assert failure("", b"simulate=install-failed\n") == "install" and failure("download", b"data") == "download"
    signer = Signer()
    assert signature_ok(signer.certificate, signer.sign(b"image"), b"image")
    assert not signature_ok(signer.certificate, signer.sign(b"image"), b"imagf")
    assert not signature_ok(signer.certificate, "not base64!", b"image")


@pytest.mark.parametrize("version", [V16, V201])
def test_a_slow_install_waits_for_the_session_to_end(version: OcppVersion) -> None:
    slow = msgspec.structs.replace(load_template("esp32-generic"), ota=Ota(download_s=60, install_s=120))
    p = Pair(version, slow, visits=[visit(10, 1200)], downloads={URL: b"version=2.0.0\n"})
    p.run(60)
    update(p, version)
    p.run(600)
    assert statuses(p) == ["Downloading", "Downloaded"]  # downloaded after a minute; charging until 1200 s
    p.run(1200)
    assert booted_version(p, version) == "2.0.0" and statuses(p)[-1] == "Installed"
    assert p.fw.stats.get("reboot_while_charging", 0) == 0 and p.fw.stats["update_while_charging"] == 1


@pytest.mark.parametrize("version", [V16, V201])
def test_an_image_that_fails_to_install_or_loops_back(version: OcppVersion) -> None:
    p = Pair(version, downloads={URL: b"simulate=install-failed\n"})
    p.run(30)
    update(p, version)
    p.run(120)
    assert statuses(p) == ["Downloading", "Downloaded", "Installing", "InstallationFailed"]
    assert len(p.sent("BootNotification")) == 1
    loop = msgspec.structs.replace(load_template("esp32-generic"), ota=Ota(fails="boot-loop"))
    q = Pair(version, loop)
    q.run(30)
    update(q, version)
    q.run(200)
    assert len(q.sent("BootNotification")) == 2 and booted_version(q, version) == loop.firmware_version
    assert "Installed" not in statuses(q)


@pytest.mark.parametrize("version", [V16, V201])
def test_signed_updates_are_verified(version: OcppVersion) -> None:
    action = "SignedFirmwareStatusNotification" if version is V16 else "FirmwareStatusNotification"
    image, signer = b"version=2.0.0\nimage", Signer()
    p = Pair(version, downloads={URL: image})
    p.run(30)
    update(p, version, signed=(signer.certificate, signer.sign(image)))
    p.run(200)
    assert statuses(p, action)[:3] == ["Downloading", "Downloaded", "SignatureVerified"]
    assert statuses(p, action)[-1] == "Installed" and booted_version(p, version) == "2.0.0"
    assert {s["requestId"] for s in p.sent(action)} == {8}
    q = Pair(version, downloads={URL: image})
    q.run(30)
    update(q, version, signed=(signer.certificate, Signer().sign(image)))  # another key's signature
    q.run(200)
    assert statuses(q, action) == ["Downloading", "Downloaded", "InvalidSignature"]
