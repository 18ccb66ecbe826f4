"""External limits (NotifyChargingLimit) as caps: on an EVSE, or on the charger node for the whole charger."""

from __future__ import annotations

from datetime import UTC, datetime

from chargewise.charging.allocate import allocate
from chargewise.charging.external import ExternalCap, capped
from chargewise.charging.sitefile import parse
from chargewise.charging.state import Cause, EvseState, SiteState

T0 = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
SITE = parse('[nodes.main]\nlimit_a = 63\n[chargers.W]\nparent = "main"\nevses = 2\n[chargers.X]\nparent = "main"\n')
BUSY = SiteState(evses={e: EvseState(session=True) for e in ("W/1", "W/2", "X/1")})


def test_an_evse_cap_holds_its_limit_and_says_why() -> None:
    site, per_evse = capped(SITE.site, [ExternalCap(charger="X", evse=1, source="EMS", watts=6900.0)])
    assert site is SITE.site and per_evse == {"X/1": 10.0}  # 6.9 kW over three phases at 230 V
    state = SiteState(evses={**BUSY.evses, "X/1": EvseState(session=True, cap_a=per_evse["X/1"])})
    out = allocate(site, state, T0, None, SITE.policy)
    assert out.limits["X/1"].limit_a == 10.0 and out.limits["X/1"].cause is Cause.EXTERNAL
    assert "NotifyChargingLimit" in out.limits["X/1"].reason


def test_a_cap_under_the_minimum_is_off_and_the_lowest_source_binds() -> None:
    _, per_evse = capped(SITE.site, [ExternalCap(charger="X", evse=1, source="EMS", amps=12.0),
                                     ExternalCap(charger="X", evse=1, source="SO", amps=4.0)])  # fmt: skip
    assert per_evse == {"X/1": 4.0}
    state = SiteState(evses={**BUSY.evses, "X/1": EvseState(session=True, cap_a=4.0)})
    assert allocate(SITE.site, state, T0, None, SITE.policy).limits["X/1"].limit_a == 0.0


def test_a_charger_wide_cap_is_shared_by_its_evses() -> None:
    site, per_evse = capped(SITE.site, [ExternalCap(charger="W", evse=0, source="SO", amps=16.0),
                                        ExternalCap(charger="Z", evse=1, source="SO", amps=1.0)])  # fmt: skip
    assert per_evse == {} and site.nodes["W"].limit_a == (16.0, 16.0, 16.0)
    out = allocate(site, BUSY, T0, None, SITE.policy)
    assert out.limits["W/1"].limit_a + out.limits["W/2"].limit_a <= 16.0 - SITE.policy.margin_a + 1e-9
    assert SITE.site.nodes["W"].limit_a[0] == float("inf")  # the site itself is unchanged
