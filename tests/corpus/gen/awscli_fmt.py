"""aws CLI output rendered by the aws CLI's own formatters (awscli 1.33; v2 prints the same
text and table output), so the corpus never holds a format the tool does not print."""

from __future__ import annotations

import copy
import io
import json
from types import SimpleNamespace
from typing import Any

from awscli.formatter import TableFormatter, TextFormatter


def render(op: str, response: Any, output: str, width: int = 160) -> str:
    """`op` is the API operation name (DescribeInstances): the table's title, as the CLI has it."""
    data = copy.deepcopy(response)
    if output == "json":
        return json.dumps(data, indent=4, ensure_ascii=False) + "\n"
    args = SimpleNamespace(query=None, color="off", paginate=False)
    stream = io.StringIO()
    if output == "text":
        TextFormatter(args)(op, data, stream)
    elif output == "table":
        fmt = TableFormatter(args)
        fmt.table._terminal_width = width
        fmt(op, data, stream)
    else:
        raise ValueError(output)
    return stream.getvalue()
