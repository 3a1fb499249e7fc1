"""The metric files of one `fishhook serve`: a fresh directory per run, removed at the end,
and one scrape that sums what every worker wrote (each worker a separate process here)."""

import os
import subprocess
import sys
from pathlib import Path

from app.metrics.multiproc import ENV, metrics_directory, worker_exited

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
from app.metrics import families, service
families.callbacks.labels("applied").inc(3)
families.pool_size.set(10)
"""
SCRAPE = """
import os, sys
from app.metrics import exposition
assert exposition.multiprocess()
sys.stdout.write(exposition.render().decode())
"""


def run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_scrape_sums_every_worker_and_the_directory_goes_with_the_run():
    before = os.environ.get(ENV)
    with metrics_directory() as directory:
        assert os.environ[ENV] == directory
        workers = [subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT) for _ in range(2)]
        assert [w.wait(60) for w in workers] == [0, 0]
        both = run(SCRAPE)
        for w in workers:  # what the supervisor does when a worker exits
            worker_exited(w.pid)
        after = run(SCRAPE)
    assert 'fishhook_callbacks_total{outcome="applied"} 6.0' in both  # 3 from each worker
    assert "fishhook_db_pool_size 20.0" in both
    # Gone workers' live gauges stop counting; their counters stay in the sums.
    assert 'fishhook_callbacks_total{outcome="applied"} 6.0' in after
    assert "fishhook_db_pool_size 20.0" not in after
    assert not Path(directory).exists()
    assert os.environ.get(ENV) == before
