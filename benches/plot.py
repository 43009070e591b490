"""latency.png from results.json: p50 and p99 by body size for each set-up (runs in the tools venv).

python benches/plot.py benches/results/results.json benches/results/latency.png
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

STYLE = {
    "direct": ("#888888", "upstream directly"),
    "maskgate": ("#1b7837", "maskgate"),
    "pass-through": ("#e08214", "bare Starlette + httpx pass-through"),
    "litellm": ("#2166ac", "LiteLLM proxy"),
    "litellm+presidio": ("#b2182b", "LiteLLM proxy + Presidio guardrail"),
}


def main() -> None:
    results = json.load(open(sys.argv[1]))
    lat = results["sections"]["latency"]
    summary = lat["summary"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharex=True)
    panels = [("total", "non-streamed: whole response"), ("ttfb", "streamed: first byte")]
    for ax, (metric, title) in zip(axes, panels, strict=True):
        for name, (color, label) in STYLE.items():
            rows = summary.get(name)
            if not rows:
                continue
            xs, p50, p99 = [], [], []
            for size in lat["sizes"]:
                d = rows.get(str(size), {}).get(metric, {})
                if d.get("p50_ms") is not None:
                    xs.append(size / 1000)
                    p50.append(d["p50_ms"])
                    p99.append(d["p99_ms"])
            if xs:
                ax.plot(xs, p50, "o-", color=color, label=f"{label} p50")
                ax.plot(xs, p99, "--", color=color, alpha=0.5, label=f"{label} p99")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("request body (KB)")
        ax.set_ylabel("ms")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.25)
    axes[0].legend(fontsize=7, loc="upper left")
    m = results["machine"]
    fig.suptitle(
        f"Latency by body size, one request at a time ({m['cores']} cores, {results['created'][:10]})", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
