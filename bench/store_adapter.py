"""Parity store write rate: results folded into batches and written, as the gateway does.

Two figures per database:
- `writer`: results per second through `StoreWriter` (put N results, flush), end to end;
- `batch`: results per second through `Store.write` of one folded batch of 500 results.
Results are 90 % matched and 10 % mismatched with two differences and a redacted sample each,
spread over request ids so the sample slots fill as they do in production.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any


def _results(n: int, start: float) -> list[Any]:
    from shadow.compare import Difference, Kind, Outcome
    from shadow.records import RequestInfo, Result, Sample

    diffs = (
        Difference(
            "body.data[3].attributes.updated_at", "body.data[*].attributes.updated_at", Kind.VALUE
        ),
        Difference("body.meta.total", "body.meta.total", Kind.VALUE),
    )
    side = '{"status":200,"headers":{},"body":{"data":[' + ",".join(["{}"] * 40) + "]}}"
    out = []
    for i in range(n):
        # every tenth result a mismatch with a sample, as a shadow route with a real difference
        mismatch = i % 10 == 0
        info = RequestInfo("GET", "/api/v1/admin/users", "page=2", f"bench-{start}-{i}")
        out.append(
            Result(
                "users.list",
                start + i * 1e-4,
                Outcome.MISMATCHED if mismatch else Outcome.MATCHED,
                primary_duration=0.004,
                candidate_duration=0.002,
                differences=diffs if mismatch else (),
                sample=Sample(info, side, side.replace("200", "201", 1)) if mismatch else None,
            )
        )
    return out


def write_rate(store_mod: Any, url: str, rows: int, repeat: int) -> dict[str, Any]:
    from shadow.records import fold

    store = store_mod.open_store(url)
    try:
        batch_rates, writer_rates = [], []
        for _ in range(max(3, repeat)):
            results = _results(500, time.time())
            batch = fold(results, store.bucket_seconds, 0, time.time())
            t0 = time.perf_counter()
            store.write(batch)
            batch_rates.append(len(results) / (time.perf_counter() - t0))
            writer_rates.append(asyncio.run(_through_writer(store_mod, store, rows)))
        return {
            "url": url.split("://", 1)[0],
            "batch_results_per_s": _spread(batch_rates),
            "writer_results_per_s": _spread(writer_rates),
            "rows": rows,
        }
    finally:
        store.close()


async def _through_writer(store_mod: Any, store: Any, rows: int) -> float:
    writer = store_mod.StoreWriter(store, max_queue=rows + 1)
    results = _results(rows, time.time())
    t0 = time.perf_counter()
    for r in results:
        writer.put(r)
    await writer.flush()
    elapsed = time.perf_counter() - t0
    await writer.close()
    if writer.dropped:
        raise RuntimeError(f"writer dropped {writer.dropped} results")
    return rows / elapsed


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}
