"""What the tests share: secrets, fixture bodies, the fake AceData, API calls, a webhook
receiver, and `eventually` for anything that has to be waited for."""
