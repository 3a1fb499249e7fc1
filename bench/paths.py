"""The benchmark's verdict per path: every hot path beside its reference, the targets of
issue 13, and how evenly fishhook's workers shared each load."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.run import Phase

# path, fishhook's phase, reference, its phase, min throughput ratio, max p99 ratio
PATHS = [
    ("callbacks c=16", "closed c=16", "raw asyncpg", "closed c=16", 1.3, None),
    ("callbacks c=64", "closed c=64", "raw asyncpg", "closed c=64", 1.3, None),
    ("callbacks open 1000/s", "open 1000/s", "raw asyncpg", "open 1000/s", None, 1.0),
    ("GET /v1/tasks/{id} c=32", "GET task c=32", "read reference", "GET task c=32", 1.0, 1.5),
    ("submit c=32", "submit c=32", "submit reference", "submit c=32", 0.8, 1.5),
]
BALANCE = 0.25  # each worker within 25 % of an even share
BALANCE_PHASE = "GET task c=32"  # the target's load: 32 keep-alive connections opened at once


def _p99(phase: "Phase") -> float:
    merged = sorted(t for o in phase.outcomes for t in o.latencies)
    return merged[min(len(merged) - 1, int(0.99 * len(merged)))] * 1000 if merged else 0.0


def verdicts(phases: list["Phase"]) -> tuple[list[str], dict[str, float], bool]:
    """The paths table, the ratios for the RESULT line, and whether every target was met."""
    found = {(p.receiver, p.name): p for p in phases}
    lines = [
        "| path | fishhook/s | reference | reference/s | ratio | target | fishhook p99 ms "
        "| reference p99 ms | p99 ratio | target | met |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ratios: dict[str, float] = {}
    all_met = True
    for path, name, reference, ref_name, min_ratio, max_p99 in PATHS:
        hook, ref = found.get(("fishhook", name)), found.get((reference, ref_name))
        if hook is None or ref is None:
            continue
        ratio = hook.rps / ref.rps if ref.rps else 0.0
        p99_ratio = _p99(hook) / _p99(ref) if _p99(ref) else 0.0
        met = (min_ratio is None or ratio >= min_ratio) and (
            max_p99 is None or p99_ratio <= max_p99
        )
        all_met &= met
        ratios[path] = ratio
        ratios[path + " p99"] = p99_ratio
        lines.append(
            f"| {path} | {hook.rps:.0f} | {reference} | {ref.rps:.0f} | {ratio:.2f} "
            f"| {'>= ' + str(min_ratio) if min_ratio else '-'} | {_p99(hook):.1f} "
            f"| {_p99(ref):.1f} | {p99_ratio:.2f} | {'<= ' + str(max_p99) if max_p99 else '-'} "
            f"| {'yes' if met else 'NO'} |"
        )
    return lines, ratios, all_met


def worker_shares(phases: list["Phase"]) -> tuple[list[str], float]:
    """Per fishhook closed-loop phase and worker: requests, connections, CPU; and the worst
    deviation from an even share of requests in any single round of BALANCE_PHASE."""
    lines = [
        "| phase | worker | requests | share | connections (per round) | CPU s | CPU share |",
        "|---|---|---|---|---|---|---|",
    ]
    worst = 0.0
    for phase in phases:
        if phase.receiver != "fishhook" or not any(o.owners for o in phase.outcomes):
            continue
        totals: dict[int, list[Any]] = {}
        for outcome in phase.outcomes:
            served = {pid: v for pid, v in outcome.per_worker().items() if pid}
            count = sum(requests for requests, _ in served.values())
            workers = len(phase.worker_cpu) or len(served)
            for pid, (requests, connections) in served.items():
                entry = totals.setdefault(pid, [0, []])
                entry[0] += requests
                entry[1].append(connections)
                if count and workers and phase.name == BALANCE_PHASE:
                    worst = max(worst, abs(requests / count * workers - 1))
            for pid in phase.worker_cpu:
                if pid not in served and count and phase.name == BALANCE_PHASE:
                    worst = 1.0  # a worker that served nothing in a round
        everything = sum(v[0] for v in totals.values()) or 1
        cpu = sum(phase.worker_cpu.values()) or 1.0
        for pid in sorted(set(totals) | set(phase.worker_cpu)):
            requests, connections = totals.get(pid, [0, []])
            seconds = phase.worker_cpu.get(pid, 0.0)
            lines.append(
                f"| {phase.name} | {pid} | {requests} | {requests / everything:.0%} "
                f"| {'/'.join(map(str, connections)) or 0} | {seconds:.1f} | {seconds / cpu:.0%} |"
            )
    return lines, worst


def result_fields(ratios: dict[str, float], worst: float, met: bool) -> str:
    def get(path: str) -> str:
        return f"{ratios[path]:.2f}" if path in ratios else "-"

    return (
        f"ratio_get={get('GET /v1/tasks/{id} c=32')} "
        f"p99_ratio_get={get('GET /v1/tasks/{id} c=32 p99')} "
        f"ratio_submit={get('submit c=32')} p99_ratio_submit={get('submit c=32 p99')} "
        f"ratio_c16={get('callbacks c=16')} ratio_c64={get('callbacks c=64')} "
        f"p99_ratio_open={get('callbacks open 1000/s p99')} "
        f"worker_imbalance={worst:.0%} targets={'met' if met and worst <= BALANCE else 'NOT met'}"
    )
