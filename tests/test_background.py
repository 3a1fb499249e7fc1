import asyncio

from app.background import Background


async def test_a_failing_run_is_logged_and_the_loop_goes_on(caplog):
    runs = []

    async def job():
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("first run fails")

    background = Background()
    background.every("flaky", 0.01, job)
    for _ in range(100):
        if len(runs) >= 3:
            break
        await asyncio.sleep(0.01)
    await background.stop()
    assert len(runs) >= 3
    failed = [r for r in caplog.records if r.getMessage() == "background_job_failed"]
    assert failed[0].job == "flaky"
    assert failed[0].exc_info is not None
