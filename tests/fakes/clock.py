"""A clock a test moves by hand: `sleep` waits until `advance` has moved time past its deadline."""

from __future__ import annotations

import asyncio


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    async def sleep(self, seconds: float) -> None:
        wake = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, wake))
        await wake

    async def advance(self, seconds: float) -> None:
        """Move time on; everything due by then wakes and runs until it waits again."""
        await settle()  # tasks started just before start their sleeps at the old time
        self.now += seconds
        due = [(at, wake) for at, wake in self._sleepers if at <= self.now]
        self._sleepers = [(at, wake) for at, wake in self._sleepers if at > self.now]
        for _, wake in due:
            if not wake.done():
                wake.set_result(None)
        await settle()

    @property
    def sleeping(self) -> int:
        return sum(not wake.done() for _, wake in self._sleepers)


async def settle() -> None:
    """Let every task that can run, run, until all of them wait on something."""
    for _ in range(20):
        await asyncio.sleep(0)
