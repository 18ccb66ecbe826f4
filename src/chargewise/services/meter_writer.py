"""Group commit for meter samples: each MeterValues is answered only after the batch holding it commits."""

from __future__ import annotations

from chargewise.domain.model import MeterSample
from chargewise.domain.ports import TransactionStore
from chargewise.services.group_commit import GroupCommit


class MeterWriter(GroupCommit[MeterSample]):
    def __init__(self, store: TransactionStore, *, max_batch: int = 5000) -> None:
        super().__init__(store.add_meter_samples, max_batch=max_batch)
