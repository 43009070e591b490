"""The Claude Code environment has one definition (`claude.claude_code_env`): every way maskgate
points a Claude Code at the gateway (`maskgate claude`, `maskgate setup`, `claude.query`, the
headless endpoint) strips the same redirections and sets the same switches."""

from __future__ import annotations

from maskgate.claude import QUIET_ENV, REDIRECTING_ENV, claude_code_env

URL, TOKEN = "http://127.0.0.1:8000", "mg-token-0123456789"


def test_started_process_loses_redirections_and_our_header() -> None:
    base = {
        "PATH": "/bin",
        "ANTHROPIC_API_KEY": "sk-ant-users-own",
        "ANTHROPIC_AUTH_TOKEN": "other",
        "CLAUDE_CODE_USE_BEDROCK": "1",
        "ANTHROPIC_CUSTOM_HEADERS": "X-Maskgate-Key: sk-ant-x\nx-team: a",
        "DISABLE_TELEMETRY": "",
    }
    env = claude_code_env(URL, TOKEN, base)
    assert not set(REDIRECTING_ENV) & set(env)
    assert env["PATH"] == "/bin" and env["ANTHROPIC_CUSTOM_HEADERS"] == "x-team: a"
    assert env["ANTHROPIC_BASE_URL"] == URL and env["ANTHROPIC_AUTH_TOKEN"] == TOKEN
    assert all(env[k] == v for k, v in QUIET_ENV.items())


def test_merged_env_blanks_what_it_cannot_unset() -> None:
    """claude-agent-sdk's `env` option and the settings' `env` block are merged over another
    environment: a redirection in what the caller passes stays blank, the switches stay on."""
    extra = {
        "ANTHROPIC_API_KEY": "sk-ant-users-own",
        "DISABLE_TELEMETRY": "",
        "ANTHROPIC_CUSTOM_HEADERS": "x-maskgate-key: k",
    }
    env = claude_code_env(URL, TOKEN, extra, blank=True)
    assert {k: env[k] for k in REDIRECTING_ENV} == dict.fromkeys(REDIRECTING_ENV, "")
    assert all(env[k] == v for k, v in QUIET_ENV.items())
    assert "ANTHROPIC_CUSTOM_HEADERS" not in env
    assert claude_code_env(URL, TOKEN, blank=True) == {
        **dict.fromkeys(REDIRECTING_ENV, ""),
        **QUIET_ENV,
        "ANTHROPIC_BASE_URL": URL,
        "ANTHROPIC_AUTH_TOKEN": TOKEN,
    }
