async def test_voice_submit_answers_202_with_submitted_task(client, acedata):
    answer = await client.post(
        "/v1/voices", json={"voice_url": "https://x.example/a.mp3", "title": "t"}
    )
    assert answer.status_code == 202, answer.text
    task = answer.json()
    assert task["status"] == "submitted"
    assert task["task_id"]
