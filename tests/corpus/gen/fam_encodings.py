"""Encodings and splits seen in pasted text: JSON escapes inside text (PHP's \\/, .NET's \\u002B),
zero-width and soft-hyphen characters inside IDs (chat apps, word processors), full-width
characters, tokens and secrets wrapped over several lines, IDs glued to '-' or '_'."""

# ruff: noqa: E501  (templates hold tool output lines as the tools print them)

from __future__ import annotations

import json

from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values
from tests.corpus.gen.world import World

ZW = ["\u200b", "\u200c", "\u200d", "\u2060"]


def php_json_log(v: Values, n: int) -> Doc:
    """PHP's json_encode escapes '/' by default: ARNs, URLs and secrets arrive with \\/."""
    d = Doc(f"php-json-escaped-slashes-{n}")
    w = World(v, d)
    sk = v.secret_key()
    while "/" not in sk:
        sk = v.secret_key()
    role = f"arn:aws:iam::{w.acct}:role/{w.org}-php-app"
    b = w.bucket()
    esc = {
        "level": "error",
        "message": "S3 upload failed",
        "context": {
            "role": role,
            "object": f"https://{b}.s3.{w.region}.amazonaws.com/uploads/{w.num12()}.jpg",
            "credentials": {"key": w.akid(), "secret": sk},
            "request_id": w.uuid(),
        },
        "datetime": w.ts(),
    }
    text = json.dumps(esc, separators=(",", ":")).replace("/", "\\/")
    d.plant("arn", role.replace("/", "\\/"), role)
    d.plant("secret", sk.replace("/", "\\/"), sk)
    d.text = f"[{w.ts()}] production.ERROR: {text}\n"
    return d


def dotnet_json_log(v: Values, n: int) -> Doc:
    """System.Text.Json escapes '+' (and HTML-sensitive characters) as \\u002B."""
    d = Doc(f"dotnet-json-escaped-plus-{n}")
    w = World(v, d)
    sk = v.secret_key()
    while "+" not in sk:
        sk = v.secret_key()
    tok = v.session_token(w.region)
    while "+" not in tok:
        tok = v.session_token(w.region)
    body = json.dumps(
        {
            "Timestamp": w.ts(),
            "Level": "Warning",
            "MessageTemplate": "Refreshed credentials for {RoleArn}",
            "Properties": {
                "RoleArn": w.iam_arn(f"role/{w.org}-worker"),
                "AccessKeyId": w.akid("ASIA"),
                "SecretAccessKey": sk,
                "SessionToken": tok,
                "TraceId": w.d.look("hex32", v.hexs(32)),
            },
        },
        separators=(",", ":"),
    ).replace("+", "\\u002B")
    d.plant("secret", sk.replace("+", "\\u002B"), sk)
    d.plant("token", tok.replace("+", "\\u002B"), tok)
    d.text = body + "\n"
    return d


def zero_width(v: Values, n: int) -> Doc:
    d = Doc(f"zero-width-inside-ids-{n}")
    w = World(v, d)
    iid, vpc, acct, ak = v.ec2("i"), v.ec2("vpc"), v.account(), v.access_key_id(w.acct)
    zs = [v.choice(ZW) for _ in range(4)]
    i_raw = iid[:7] + zs[0] + iid[7:]
    vpc_raw = vpc[:4] + zs[1] + vpc[4:]
    acct_raw = acct[:6] + zs[2] + acct[6:]
    ak_raw = ak[:4] + zs[3] + ak[4:]
    d.text = f"""Copied from the team wiki (the editor inserts invisible break opportunities):
- bastion: {d.plant("ec2", i_raw, iid)}
- network: {d.plant("vpc", vpc_raw, vpc)}
- billing account: {d.plant("acct", acct_raw, acct)}
- old CI key (rotate!): {d.plant("iam", ak_raw, ak)}
- runbook commit: {w.sha()}
"""
    return d


def soft_hyphen(v: Values, n: int) -> Doc:
    d = Doc(f"soft-hyphen-inside-values-{n}")
    w = World(v, d)
    sk = v.secret_key()
    arn = f"arn:aws:iam::{w.acct}:role/{w.org}-data-pipeline-execution"
    b = v.bucket(w.org)
    sk_raw = sk[:13] + "\u00ad" + sk[13:27] + "\u00ad" + sk[27:]
    arn_raw = arn[:30] + "\u00ad" + arn[30:]
    b_raw = b[:9] + "\u00ad" + b[9:]
    d.text = f"""<p>Pipeline role: {d.plant("arn", arn_raw, arn)}</p>
<p>Landing bucket: s3://{d.plant("bucket", b_raw, b)}/raw/</p>
<p>Service user key: {w.akid()} / {d.plant("secret", sk_raw, sk)}</p>
<p>Ticket {w.d.look("num12", v.twelve_digits())} &middot; rev {w.short_sha()}</p>
"""
    return d


def full_width(v: Values, n: int) -> Doc:
    d = Doc(f"full-width-ascii-{n}")
    w = World(v, d)
    ak = v.access_key_id(w.acct)
    sg = v.ec2("sg")
    fw = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-"}
    fw["-"] = "－"
    ak_raw = "".join(fw.get(c, c) for c in ak)
    sg_raw = "".join(fw.get(c, c) for c in sg)
    d.text = f"""申請フォームの入力内容（全角のまま）:
アクセスキーＩＤ：{d.plant("iam", ak_raw, ak)}
セキュリティグループ：{d.plant("sg", sg_raw, sg)}
申請番号：{d.look("num12", "".join(fw[c] for c in v.twelve_digits()))}
"""
    return d


def wrapped(v: Values, n: int) -> Doc:
    d = Doc(f"wrapped-tokens-{n}")
    w = World(v, d)
    tok = v.session_token(w.region)
    if n == 1:
        width = 64
        lines = [tok[i : i + width] for i in range(0, len(tok), width)]
        raw = "\n".join(lines)
        d.plant("token", raw, tok)
        d.text = f"$ aws sts get-session-token --duration-seconds 900 --query Credentials.SessionToken --output text | fold -w 64\n{raw}\n"
    elif n == 2:
        width = 100
        raw = "\n      ".join(tok[i : i + width] for i in range(0, len(tok), width))
        d.plant("token", raw, tok)
        d.text = f"""# ~/.aws/credentials pasted into a ticket; the tracker re-indented the wrapped line
[tmp]
aws_access_key_id = {w.akid("ASIA")}
aws_secret_access_key = {w.secret()}
aws_session_token = {raw}
"""
    else:
        sk = v.secret_key()
        raw_sk = sk[:20] + "\n" + sk[20:]
        d.plant("secret", raw_sk, sk)
        width = 120
        raw = "\n".join(tok[i : i + width] for i in range(0, len(tok), width))
        d.plant("token", raw, tok)
        d.text = f"""> {w.akid("ASIA")}
> secret (split so Slack doesn't unfurl it):
{raw_sk}
> token:
{raw}
"""
    return d


def glued(v: Values, n: int) -> Doc:
    d = Doc(f"ids-glued-to-dash-underscore-{n}")
    w = World(v, d)
    iid, iid2, vol, sg, ami, snap, subnet = (
        w.id("i", "ec2"),
        w.id("i", "ec2"),
        w.id("vol"),
        w.id("sg"),
        w.id("ami"),
        w.id("snap"),
        w.id("subnet"),
    )
    d.text = f"""$ ls /var/backups/
host-{iid}.tar.gz
{iid2}_old.tar.gz
backup-{vol}_{d.look("num12", f"{w.when():%Y%m%d%H%M}")}.img
$ terraform state list | grep -E 'sg|ami'
aws_security_group_rule.{sg}_ingress_443
module.golden.aws_ami_copy.{ami}-encrypted
aws_ebs_snapshot_copy.{snap}-dr
$ grep -r subnet_ id_map.yaml
web_subnet_{subnet}: public-a
$ hostnamectl
 Static hostname: web-{iid}
"""
    return d


def mixed_api_gateway_event(v: Values, n: int) -> Doc:
    d = Doc(f"percent-encoded-in-json-event-{n}")
    w = World(v, d)
    arn = f"arn:aws:iam::{w.acct}:role/{w.org}-reader"
    s3uri = f"s3://{v.bucket(w.org)}/exports/2024/"
    ev = {
        "resource": "/admin/{proxy+}",
        "path": f"/admin/roles/{urllib_quote(arn)}",
        "httpMethod": "GET",
        "queryStringParameters": {"source": urllib_quote(s3uri), "page": "2"},
        "requestContext": {"accountId": w.acct, "requestId": w.uuid(), "apiId": v.apigw_id()},
    }
    d.plant("arn", urllib_quote(arn), arn)
    d.plant("bucket", urllib_quote(s3uri).split("%2F")[2], s3uri.split("/")[2], glued=True)
    d.text = json.dumps(ev, indent=2) + "\n"
    return d


def urllib_quote(s: str) -> str:
    import urllib.parse

    return urllib.parse.quote(s, safe="")


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = []
    for k in (1, 2):
        docs += [
            php_json_log(v, k),
            dotnet_json_log(v, k),
            zero_width(v, k),
            soft_hyphen(v, k),
            full_width(v, k),
            glued(v, k),
        ]
    docs += [wrapped(v, k) for k in (1, 2, 3)]
    docs.append(mixed_api_gateway_event(v, 1))
    return docs
