from app.background import Background
from tests.support.polling import eventually


async def test_a_failing_run_is_logged_and_the_loop_goes_on(caplog):
    runs = []

    async def job():
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("first run fails")

    background = Background()
    background.every("flaky", 0.01, job)
    await eventually(lambda: len(runs) >= 3, timeout=1.0, what="three runs")
    await background.stop()
    assert len(runs) >= 3
    failed = [r for r in caplog.records if r.getMessage() == "background_job_failed"]
    assert failed[0].job == "flaky"
    assert failed[0].exc_info is not None
