"""Signed POSTs retried with exponential back-off: signatures a receiver can verify, the delays, the status."""

from __future__ import annotations

from datetime import UTC, datetime

from chargewise.services.deliveries import SIGNATURE, Backoff, DeliveryStatus, deliver, sign, verify

T0 = datetime(2026, 12, 2, tzinfo=UTC)


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    assert sign("Jefe", b"what do ya want for nothing?") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")  # fmt: skip
    assert verify("Jefe", b"what do ya want for nothing?", sign("Jefe", b"what do ya want for nothing?"))
    assert not verify("Jefe", b"what do ya want for nothing!", sign("Jefe", b"what do ya want for nothing?"))
    assert not verify("jefe", b"what do ya want for nothing?", sign("Jefe", b"what do ya want for nothing?"))


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(first_s=0.5, max_s=3.0, attempts=6)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_failed_attempts_are_retried_then_given_up() -> None:
    answers = ["HTTP 500 Internal Server Error", "ConnectionRefusedError", None]
    sent: list[dict[str, str]] = []
    slept: list[float] = []

    async def post(url: str, body: bytes, headers: dict[str, str]) -> str | None:
        sent.append(headers)
        return answers.pop(0) if answers else "HTTP 503"

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    status = DeliveryStatus()
    ok = await deliver(post, "http://x/h", b'{"a":1}', secret="s", headers={"X-Id": "1"}, backoff=Backoff(attempts=4),
                       status=status, now=lambda: T0, sleep=sleep)  # fmt: skip
    assert ok and slept == [1.0, 2.0] and len(sent) == 3
    assert sent[0][SIGNATURE] == sign("s", b'{"a":1}') and sent[0]["X-Id"] == "1"
    assert (status.delivered, status.failed_attempts, status.consecutive_failures) == (1, 2, 0)
    assert status.last_error == "ConnectionRefusedError" and status.last_success_at == T0
    ok = await deliver(post, "http://x/h", b"{}", secret="s", headers={}, backoff=Backoff(attempts=3), status=status,
                       now=lambda: T0, sleep=sleep)  # fmt: skip
    assert not ok and status.given_up == 1 and status.consecutive_failures == 3 and status.last_error == "HTTP 503"
