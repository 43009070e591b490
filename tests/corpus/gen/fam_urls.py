"""Presigned URLs (SigV4 and SigV2), console URLs with percent-encoded ARNs and s3:// URIs,
sign-in and switch-role links, as people paste them."""

# ruff: noqa: E501  (templates hold tool output lines as the tools print them)

from __future__ import annotations

import base64
import urllib.parse

from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values
from tests.corpus.gen.world import World


def q(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def presigned_v4(v: Values, n: int) -> Doc:
    d = Doc(f"presigned-url-sigv4-{n}")
    w = World(v, d)
    b = w.bucket()
    t = w.when()
    key = f"exports/{t:%Y-%m}/invoice-{w.num12()}.pdf"
    temp = n % 2 == 1
    ak = w.akid("ASIA" if temp else "AKIA")
    cred = f"{ak}%2F{t:%Y%m%d}%2F{w.region}%2Fs3%2Faws4_request"
    parts = [
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        f"X-Amz-Credential={cred}",
        f"X-Amz-Date={t:%Y%m%dT%H%M%SZ}",
        "X-Amz-Expires=3600",
    ]
    if temp:
        tok = v.session_token(w.region)
        d.plant("token", q(tok), tok)
        parts.append(f"X-Amz-Security-Token={q(tok)}")
    parts += [f"X-Amz-Signature={v.hexs(64)}", "X-Amz-SignedHeaders=host", "x-id=GetObject"]
    url = f"https://{b}.s3.{w.region}.amazonaws.com/{key}?" + "&".join(parts)
    lead = v.choice(["Here is the link the app generated, it returns 403:", "presigned URL from the logs:", ""])
    d.text = (f"{lead}\n" if lead else "") + url + "\n"
    return d


def presigned_v2(v: Values, n: int) -> Doc:
    d = Doc(f"presigned-url-sigv2-{n}")
    w = World(v, d)
    b = w.bucket()
    sig = q(base64.b64encode(v.randbytes(20)).decode())
    url = f"https://{b}.s3.amazonaws.com/backups/db-{w.epoch()}.sql.gz?AWSAccessKeyId={w.akid()}&Expires={w.epoch()}&Signature={sig}"
    d.text = f"curl -o backup.sql.gz '{url}'\n"
    return d


def console_urls(v: Values, n: int) -> Doc:
    d = Doc(f"console-urls-{n}")
    w = World(v, d)
    r = w.region
    stack = f"{w.org}-{v.app()}-{w.env}"
    stack_arn = f"arn:aws:cloudformation:{r}:{w.acct}:stack/{stack}/{v.uuid()}"
    sm = f"arn:aws:states:{r}:{w.acct}:stateMachine:{w.org}-etl"
    exe = f"arn:aws:states:{r}:{w.acct}:execution:{w.org}-etl:{v.uuid()}"
    b = w.bucket()
    kid = w.kms_key()
    lines = [
        f"https://{r}.console.aws.amazon.com/ec2/home?region={r}#InstanceDetails:instanceId={w.id('i', 'ec2')}",
        f"https://{r}.console.aws.amazon.com/cloudformation/home?region={r}#/stacks/stackinfo?filteringText=&viewNested=true&stackId={d.plant('arn', q(stack_arn), stack_arn, glued=True)}",
        f"https://{r}.console.aws.amazon.com/states/home?region={r}#/statemachines/view/{d.plant('arn', q(sm), sm)}",
        f"https://{r}.console.aws.amazon.com/states/home?region={r}#/v2/executions/details/{d.plant('arn', exe)}",
        f"https://s3.console.aws.amazon.com/s3/buckets/{b}?region={r}&bucketType=general&prefix=exports/2024/&showversions=false",
        f"https://{r}.console.aws.amazon.com/kms/home?region={r}#/kms/keys/{kid}",
        f"https://{r}.console.aws.amazon.com/vpcconsole/home?region={r}#VpcDetails:VpcId={w.id('vpc')}",
        f"https://{r}.console.aws.amazon.com/cloudwatch/home?region={r}#logsV2:log-groups/log-group/$252Faws$252Flambda$252F{w.org}-{v.app()}/log-events",
    ]
    d.text = "\n".join(lines) + "\n"
    return d


def signin_urls(v: Values, n: int) -> Doc:
    d = Doc(f"signin-and-portal-urls-{n}")
    w = World(v, d)
    portal = d.plant("sso", f"{v.sso_start()}.awsapps.com")
    b = w.bucket()
    dest = f"https://{w.region}.console.aws.amazon.com/s3/buckets/{b}?region={w.region}"
    d.plant("bucket", b, glued=True)
    other = d.plant("acct", v.account())
    d.text = (
        f"Console sign-in: https://{w.acct}.signin.aws.amazon.com/console\n"
        f"Switch role: https://signin.aws.amazon.com/switchrole?roleName=OrganizationAccountAccessRole&account={other}&displayName={w.org}-prod\n"
        f"Portal deep link: https://{portal}/start/#/console?account_id={w.acct}&role_name=ReadOnly&destination={q(dest)}\n"
        f"S3 URI: s3://{b}/exports/\n"
        f"Object URL: https://{b}.s3.{w.region}.amazonaws.com/exports/index.html\n"
        f"Path style: https://s3.{w.region}.amazonaws.com/{b}/exports/index.html\n"
    )
    return d


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = []
    for k in (1, 2, 3, 4):
        docs.append(presigned_v4(v, k))
    docs += [presigned_v2(v, 1), console_urls(v, 1), console_urls(v, 2), signin_urls(v, 1), signin_urls(v, 2)]
    return docs
