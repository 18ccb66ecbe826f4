"""``chargewise firmware ...`` and ``chargewise campaign ...``: artifacts and OTA campaigns on the store.

Like the other commands these work on the store directly (``--data-dir`` / ``--db``); a running server picks a
new, paused, resumed or aborted campaign up at its next turn. Bad input is one line naming the option and the
fix (a :class:`~chargewise.firmware.errors.FirmwareError`), exit code 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec

from chargewise.adapters import api_firmware_models as m
from chargewise.adapters.clock import SystemClock
from chargewise.adapters.firmware_files import ImageFiles
from chargewise.adapters.sql.firmware import SqlFirmwareStore
from chargewise.cli_sites import load as load_site
from chargewise.cli_support import UsageError, load_config, opened_store, print_json
from chargewise.firmware.errors import FirmwareError
from chargewise.services.artifacts import Artifacts
from chargewise.services.campaigns import CampaignRequest, Campaigns, progress

StoreOptions = Callable[[argparse.ArgumentParser], None]


def add_arguments(firmware: argparse.ArgumentParser, campaign: argparse.ArgumentParser, store: StoreOptions) -> None:
    fsub = firmware.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = fsub.add_parser("add", help="store an image in the data directory (served to chargers by the server)")
    add.add_argument("file", type=Path, metavar="FILE")
    add.add_argument("--version", required=True, help="the version the image reports at boot (firmwareVersion)")
    add.add_argument("--vendor", help="only for chargers of this vendor (BootNotification vendor)")
    add.add_argument("--model", help="only for chargers of this model")
    add.add_argument("--signature", type=Path, metavar="FILE", help="the image's signature, base64 (signed update)")
    add.add_argument("--signing-certificate", type=Path, metavar="PEM", help="the certificate that verifies it")
    add.add_argument("--sha256", help="refuse the file unless its SHA-256 is this")
    add.add_argument("--json", action="store_true")
    listing = fsub.add_parser("list", help="stored images")
    listing.add_argument("--json", action="store_true")
    show = fsub.add_parser("show", help="one image with its downloads (who, which bytes)")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    delete = fsub.add_parser("delete", help="delete an image and its file")
    delete.add_argument("id")
    for p in (add, listing, show, delete):
        store(p)

    csub = campaign.add_subparsers(dest="action", required=True, metavar="ACTION")
    start = csub.add_parser("start", help="a staged OTA campaign: canary, then batches")
    start.add_argument("--version", required=True, help="the artifact version to install")
    start.add_argument("--select", default="", help="vendor=..,model=..,firmware=..,site=..,charger=.. (wildcards)")
    start.add_argument("--canary", type=int, default=1, help="chargers updated first, alone (default 1)")
    start.add_argument("--batch", default="0", help="N or P%% of the rest per batch (default: the rest at once)")
    start.add_argument("--max-failures", default="0", help="N or P%% failed before it halts (default 0)")
    start.add_argument("--window", help="local maintenance window, e.g. 01:00-05:00 (across midnight too)")
    start.add_argument("--timezone", help="IANA zone of --window (default UTC), e.g. Europe/Berlin")
    start.add_argument("--concurrency", type=int, default=20, help="chargers updating at once (default 20)")
    start.add_argument("--install-timeout", type=int, default=3600, help="s for Installed and the boot (3600)")
    start.add_argument("--retries", type=int, default=3, help="the charger's download retries (default 3)")
    start.add_argument("--retry-interval", type=int, default=60, help="s between them (default 60)")
    start.add_argument("--site", action="append", type=Path, default=[], metavar="SITE_FILE",
                       help="site files, for --select site=NAME (repeatable)")  # fmt: skip
    start.add_argument("--json", action="store_true")
    clist = csub.add_parser("list", help="campaigns, oldest first")
    clist.add_argument("--json", action="store_true")
    cshow = csub.add_parser("show", help="a campaign: each charger's stage, and the history")
    cshow.add_argument("id")
    cshow.add_argument("--json", action="store_true")
    commands = [cshow, clist, start]
    for name, text in (("pause", "start no more chargers"), ("resume", "go on (after a halt: failures forgiven)"),
                       ("abort", "start no more chargers, ever")):  # fmt: skip
        p = csub.add_parser(name, help=text)
        p.add_argument("id")
        commands.append(p)
    for p in commands:
        store(p)


async def run_firmware(args: argparse.Namespace) -> int:
    directory, _, _ = load_config(args)
    async with opened_store(args, create=args.action == "add") as store:
        artifacts = Artifacts(store=SqlFirmwareStore(store), files=ImageFiles(directory),  # type: ignore[arg-type]
                              clock=SystemClock())  # fmt: skip
        try:
            await FIRMWARE[args.action](artifacts, args)
        except FirmwareError as exc:
            raise UsageError(str(exc)) from None
    return 0


async def _add(artifacts: Artifacts, args: argparse.Namespace) -> None:
    signature = _text(args.signature, "--signature")
    certificate = _text(args.signing_certificate, "--signing-certificate")
    added = await artifacts.add(args.file, filename=args.file.name, version=args.version, vendor=args.vendor,
                                model=args.model, signature=signature, signing_certificate=certificate,
                                expected_sha256=args.sha256)  # fmt: skip
    if args.json:
        print_json(msgspec.to_builtins(m.artifact_view(added)))
    else:
        print(f"added {added.id}: {added.version}, {added.size} bytes, sha256 {added.sha256}"
              + (", signed" if added.signed else ""))  # fmt: skip


def _text(path: Path | None, option: str) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise FirmwareError(option, f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}",
                            "give a readable text file") from None  # fmt: skip


async def _list(artifacts: Artifacts, args: argparse.Namespace) -> None:
    views = [m.artifact_view(a) for a in await artifacts.all()]
    if args.json:
        print_json(msgspec.to_builtins(views))
        return
    for v in views:
        print(f"{v.id}  {v.version:<16} {v.size:>10} B  {v.vendor or '*'}/{v.model or '*'}  {v.filename}"
              + ("  signed" if v.signed else ""))  # fmt: skip


async def _show(artifacts: Artifacts, args: argparse.Namespace) -> None:
    found = await artifacts.get(args.id)
    detail = m.ArtifactDetail(artifact=m.artifact_view(found),
                              downloads=[m.download_view(d) for d in await artifacts.downloads(found.id)])  # fmt: skip
    print_json(msgspec.to_builtins(detail))


async def _delete(artifacts: Artifacts, args: argparse.Namespace) -> None:
    gone = await artifacts.delete(args.id)
    print(f"deleted {gone.id} ({gone.version})")


FIRMWARE: dict[str, Callable[[Artifacts, argparse.Namespace], Awaitable[None]]] = {
    "add": _add, "list": _list, "show": _show, "delete": _delete,
}  # fmt: skip


async def run_campaign(args: argparse.Namespace) -> int:
    async with opened_store(args) as store:
        campaigns = Campaigns(store=SqlFirmwareStore(store), chargers=store, clock=SystemClock())  # type: ignore[arg-type]
        try:
            await CAMPAIGN[args.action](campaigns, args)
        except FirmwareError as exc:
            raise UsageError(str(exc)) from None
    return 0


async def _start(campaigns: Campaigns, args: argparse.Namespace) -> None:
    sites: dict[str, tuple[str, ...]] = {}
    for path in args.site:
        site = load_site(path).site
        for evse in site.evses.values():
            sites[evse.charger] = (*sites.get(evse.charger, ()), site.name)
    started = await campaigns.start(CampaignRequest(
        version=args.version, select=args.select, canary=args.canary, batch=args.batch,
        max_failures=args.max_failures, window=args.window, timezone=args.timezone, concurrency=args.concurrency,
        retries=args.retries, retry_interval_s=args.retry_interval, install_timeout_s=args.install_timeout,
    ), sites=sites)  # fmt: skip
    await _print_campaign(campaigns, started.id, args.json, detail=False)


async def _print_campaign(campaigns: Campaigns, campaign_id: str, as_json: bool, *, detail: bool) -> None:
    campaign, targets, history = await campaigns.show(campaign_id)
    view = m.campaign_view(campaign, progress(targets))
    if as_json:
        data: Any = (
            view
            if not detail
            else m.CampaignDetail(
                campaign=view, chargers=[m.target_view(t) for t in targets], history=[m.note_view(n) for n in history]
            )
        )
        print_json(msgspec.to_builtins(data))
        return
    counts = ", ".join(f"{n} {stage}" for stage, n in view.progress.items() if n)
    print(f"campaign {view.id}: {view.state} - {view.version}, group {view.group} of {view.groups - 1}, {counts}"
          + (f" ({view.reason})" if view.reason else ""))  # fmt: skip
    if detail:
        for t in targets:
            print(f"  {t.charger_id:<24} group {t.group}  {t.stage.value:<11} {t.last_status:<18} {t.detail}")
        for n in history[-20:]:
            print(f"  {n.at:%Y-%m-%d %H:%M:%S}  {n.charger_id or '-':<24} {n.text}")


async def _campaign_list(campaigns: Campaigns, args: argparse.Namespace) -> None:
    items = await campaigns.all()
    if args.json:
        print_json([msgspec.to_builtins(m.campaign_view(c, progress(await campaigns.store.targets(c.id))))
                    for c in items])  # fmt: skip
        return
    for c in items:
        await _print_campaign(campaigns, c.id, False, detail=False)


async def _campaign_show(campaigns: Campaigns, args: argparse.Namespace) -> None:
    await _print_campaign(campaigns, args.id, args.json, detail=True)


def _state_change(action: str) -> Callable[[Campaigns, argparse.Namespace], Awaitable[None]]:
    async def run(campaigns: Campaigns, args: argparse.Namespace) -> None:
        changed = await getattr(campaigns, action)(args.id)
        print(f"campaign {changed.id}: {changed.state.value}")

    return run


CAMPAIGN: dict[str, Callable[[Campaigns, argparse.Namespace], Awaitable[None]]] = {
    "start": _start, "list": _campaign_list, "show": _campaign_show, "pause": _state_change("pause"),
    "resume": _state_change("resume"), "abort": _state_change("abort"),
}  # fmt: skip
