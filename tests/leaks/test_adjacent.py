"""Class 3: an access key ID right before its secret: both are masked, whatever joins them.

A higher-priority match starting at the same place must not drop the other finding: in a
credentials.csv row, `KEY:SECRET`, the two on adjacent lines, or a constructor call.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.leaks.support import EXAMPLES, Aws, Leaks, aws, echo_round_trip, messages, text

LAYOUTS: dict[str, Callable[[Aws], str]] = {
    "credentials.csv": lambda a: (
        "User name,Password,Access key ID,Secret access key,Console login link\n"
        f"deploy,,{a.key_id},{a.secret},https://{a.account}.signin.aws.amazon.com/console\n"
    ),
    "access-keys.csv": lambda a: f"Access key ID,Secret access key\n{a.key_id},{a.secret}\n",
    "colon": lambda a: f"export CREDS={a.key_id}:{a.secret}",
    "adjacent lines": lambda a: f"{a.key_id}\n{a.secret}\n",
    "go": lambda a: f'creds := credentials.NewStaticCredentials("{a.key_id}", "{a.secret}", "")',
    "java": lambda a: f'new BasicAWSCredentials("{a.key_id}", "{a.secret}")',
    "env one line": lambda a: f"AWS_ACCESS_KEY_ID={a.key_id} AWS_SECRET_ACCESS_KEY={a.secret} aws s3 ls",
    "session triple": lambda a: f"{a.key_id} {a.secret} {a.token}",
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_key_id_and_its_secret_are_both_masked(gw: Leaks, layout: str) -> None:
    @EXAMPLES
    @given(aws, st.booleans())
    def run(a: Aws, stream: bool) -> None:
        pasted = LAYOUTS[layout](a)
        originals = [a.key_id, a.secret] + ([a.token] if a.token in pasted else [])
        body = messages(
            [{"type": "tool_result", "tool_use_id": "toolu_01", "content": pasted}, text(pasted)], stream=stream
        )
        body["messages"].insert(
            0, {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01", "name": "Read", "input": {}}]}
        )
        body["messages"].insert(0, {"role": "user", "content": "read the credentials file"})
        echo_round_trip(gw, body, "/messages/2/content/1/text", originals)

    run()
