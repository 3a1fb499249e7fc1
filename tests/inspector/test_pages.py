"""The inspector's pages over ASGI: what each shows, escaping, and the actions' results."""

import re
import uuid

from tests.support.api import post_callback, submit

CSP = "content-security-policy"


async def test_overview_lists_a_task_and_its_callback_with_a_strict_policy(client):
    task = await submit(client, "speech")
    answer = await post_callback(
        client,
        task["id"],
        {"task_id": task["task_id"], "audio_url": "https://cdn.example.com/a.mp3"},
    )
    delivery_id = answer.json()["delivery_id"]

    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers[CSP]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert f'href="/ui/tasks/{task["id"]}"' in page.text
    assert f'href="/ui/deliveries/{delivery_id}"' in page.text
    assert "Open access" in page.text  # no API keys: the banner says so
    assert "<script>" not in page.text and "<style>" not in page.text
    assert 'style="' not in page.text


async def test_a_script_in_a_callback_body_shows_as_text_everywhere(client):
    task = await submit(client, "speech")
    hostile = "<script>alert('x')</script>"
    body = {
        "task_id": task["task_id"],
        "audio_url": "https://cdn.example.com/a.mp3",
        "note": hostile,
    }
    delivery_id = (await post_callback(client, task["id"], body)).json()["delivery_id"]
    await client.post('/callbacks?task="><b>forged&token=x', content=hostile.encode())

    for path in ("/", "/ui/deliveries", f"/ui/deliveries/{delivery_id}", f"/ui/tasks/{task['id']}"):
        html = (await client.get(path)).text
        assert "<script>alert" not in html, path
        assert "<b>forged" not in html, path
    detail = (await client.get(f"/ui/deliveries/{delivery_id}")).text
    assert "&lt;script&gt;alert(" in detail


async def test_delivery_page_shows_headers_pretty_body_size_and_curl_without_the_credential(client):
    task = await submit(client, "speech")
    answer = await post_callback(
        client,
        task["id"],
        {"task_id": task["task_id"], "audio_url": "https://cdn.example.com/a.mp3"},
        headers={"x-trace": "abc-123", "authorization": "Bearer very-secret-header"},
    )
    delivery_id = answer.json()["delivery_id"]
    html = (await client.get(f"/ui/deliveries/{delivery_id}")).text
    assert (
        '<span class="j-key">&#34;audio_url&#34;</span>' in html
        or '<span class="j-key">&quot;audio_url&quot;</span>' in html
    )
    assert "x-trace" in html and "abc-123" in html
    assert "very-secret-header" not in html
    assert "$FISHHOOK_CALLBACK_TOKEN" in html
    token = re.search(
        r"token=([^&]+)", (await client.get("/v1/deliveries/" + delivery_id)).json()["query"]
    )
    assert token and "redacted" in token.group(1)
    assert "finished its task" in html
    assert "bytes)" in html


async def test_the_real_reason_of_a_refused_callback_is_shown(client):
    task = await submit(client, "speech")
    no_token = await client.post(f"/callbacks?task={task['id']}", json={"task_id": task["task_id"]})
    wrong = await client.post(
        f"/callbacks?task={task['id']}&token=nope", json={"task_id": task["task_id"]}
    )
    not_json = await post_callback(client, task["id"], b"{not json")
    pages = {
        no_token.json()["delivery_id"]: "has no token",
        wrong.json()["delivery_id"]: "is not the credential of",
        not_json.json()["delivery_id"]: "not valid JSON",
    }
    for delivery_id, words in pages.items():
        html = (await client.get(f"/ui/deliveries/{delivery_id}")).text
        assert words in html, (words, re.search(r"outcome-line.{0,300}", html, re.S).group())


async def test_replay_from_the_page_shows_its_outcome(client):
    task = await submit(client, "speech")
    body = {"task_id": task["task_id"], "audio_url": "https://cdn.example.com/a.mp3"}
    delivery_id = (await post_callback(client, task["id"], body)).json()["delivery_id"]
    page = await client.get(f"/ui/deliveries/{delivery_id}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)

    answer = await client.post(f"/ui/deliveries/{delivery_id}/replay", data={"csrf": csrf})
    assert answer.status_code == 303
    replayed = await client.get(answer.headers["location"])
    assert f"Replayed {delivery_id}: duplicate" in replayed.text
    assert f'href="/ui/deliveries/{delivery_id}"' in replayed.text  # replay of


async def test_state_changing_forms_without_the_csrf_token_are_refused(client):
    task = await submit(client, "speech")
    body = {"task_id": task["task_id"], "audio_url": "https://cdn.example.com/a.mp3"}
    delivery_id = (await post_callback(client, task["id"], body)).json()["delivery_id"]
    await client.get("/")  # a session cookie, as a browser would have

    for path in (
        f"/ui/deliveries/{delivery_id}/replay",
        f"/ui/tasks/{task['id']}/relay",
        "/ui/logout",
    ):
        for data in ({}, {"csrf": "forged"}):
            refused = await client.post(path, data=data)
            assert refused.status_code == 403, path
    listed = (await client.get(f"/v1/deliveries?task_id={task['id']}")).json()["items"]
    assert len(listed) == 1  # nothing was replayed


async def test_task_page_by_either_id_has_timeline_audio_and_input(client):
    task = await submit(client, "speech")
    audio = "https://cdn.example.com/speech.mp3"
    await post_callback(client, task["id"], {"task_id": task["task_id"], "audio_url": audio})
    for ref in (task["id"], task["task_id"]):
        html = (await client.get(f"/ui/tasks/{ref}")).text
        assert f'<audio controls preload="none" src="{audio}"' in html
        assert "Created" in html and "Submitted to AceData" in html and "Callback received" in html
        assert "Finished" in html
        assert "Hello from fishhook." in html


async def test_unknown_ids_are_an_html_404(client):
    for path in ("/ui/tasks/tsk_nope", "/ui/deliveries/dlv_nope"):
        answer = await client.get(path)
        assert answer.status_code == 404
        assert "text/html" in answer.headers["content-type"]


async def test_search_finds_a_delivery_by_a_word_in_its_body_and_by_ids(client):
    task = await submit(client, "speech")
    body = {
        "task_id": task["task_id"],
        "audio_url": "https://cdn.example.com/a.mp3",
        "note": "Zanzibar-Orca",
    }
    delivery_id = (await post_callback(client, task["id"], body)).json()["delivery_id"]
    other = await submit(client, "speech")
    await post_callback(
        client, other["id"], {"task_id": other["task_id"], "audio_url": "https://x.test/b.mp3"}
    )

    for q in ("zanzibar", "Orca", delivery_id, task["id"], task["task_id"]):
        html = (await client.get("/ui/deliveries", params={"q": q})).text
        assert delivery_id in html, q
        assert other["id"] not in html, q
    none = (await client.get("/ui/deliveries", params={"q": "no-such-word-anywhere"})).text
    assert "Nothing matches" in none


async def test_search_terms_are_literal_not_patterns(client):
    task = await submit(client, "speech")
    body = {
        "task_id": task["task_id"],
        "audio_url": "https://cdn.example.com/a.mp3",
        "note": "café 100% done\\ok",
    }
    delivery_id = (await post_callback(client, task["id"], body)).json()["delivery_id"]
    for q in ("café", "100%", "done\\ok", "done\\\\ok"):
        assert delivery_id in (await client.get("/ui/deliveries", params={"q": q})).text, q
    assert delivery_id not in (await client.get("/ui/deliveries", params={"q": "1_0"})).text


async def test_lists_filter_and_page_with_cursors(client):
    tasks = [await submit(client, "speech") for _ in range(3)]
    await post_callback(
        client,
        tasks[0]["id"],
        {"task_id": tasks[0]["task_id"], "audio_url": "https://x.test/a.mp3"},
    )
    succeeded = (await client.get("/ui/tasks", params={"status": "succeeded"})).text
    assert tasks[0]["id"] in succeeded and tasks[1]["id"] not in succeeded
    submitted = (
        await client.get("/ui/tasks", params={"status": "submitted", "kind": "speech"})
    ).text
    assert tasks[1]["id"] in submitted and tasks[0]["id"] not in submitted
    bad_cursor = await client.get("/ui/tasks", params={"cursor": "!!"})
    assert bad_cursor.status_code == 400 and "text/html" in bad_cursor.headers["content-type"]


async def test_static_assets_are_served_with_long_cache_headers(client):
    html = (await client.get("/")).text
    css = re.search(r'href="(/ui/static/app\.css\?v=[0-9a-f]+)"', html).group(1)
    answer = await client.get(css)
    assert answer.status_code == 200
    assert "immutable" in answer.headers["cache-control"]
    again = await client.get(css, headers={"if-none-match": answer.headers["etag"]})
    assert again.status_code == 304


async def test_a_search_pages_through_its_matches_with_cursors(client):
    task = await submit(client, "speech")
    found = []
    for n in range(53):
        body = {
            "task_id": task["task_id"],
            "audio_url": f"https://x.test/{n}.mp3",
            "note": "walrus",
        }
        found.append((await post_callback(client, task["id"], body)).json()["delivery_id"])
    first = (await client.get("/ui/deliveries", params={"q": "walrus"})).text
    on_first = [d for d in found if d in first]
    assert len(on_first) == 50 and found[-1] in first
    older = re.search(r'href="\?([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = (await client.get(f"/ui/deliveries?{older}")).text
    on_second = [d for d in found if d in second]
    assert sorted(on_first + on_second) == sorted(found)
    assert 'rel="next"' not in second


async def test_search_finds_a_task_and_its_deliveries_by_trace_id(client):
    task = await submit(client, "speech")
    trace = str(uuid.uuid4())
    body = {"task_id": task["task_id"], "trace_id": trace, "audio_url": "https://x.test/t.mp3"}
    delivery_id = (await post_callback(client, task["id"], body)).json()["delivery_id"]
    assert delivery_id in (await client.get("/ui/deliveries", params={"q": trace})).text
    assert task["id"] in (await client.get("/ui/tasks", params={"q": trace})).text
