"""~/.aws/credentials and config, credentials.csv, `aws configure` sessions, SSO cache files."""

# ruff: noqa: E501  (templates hold tool output lines as the tools print them)

from __future__ import annotations

import base64
import json
from datetime import timedelta

from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values, zulu
from tests.corpus.gen.world import World


def credentials_file(v: Values, n: int) -> Doc:
    d = Doc(f"aws-credentials-file-{n}")
    w = World(v, d)
    other = World(v, d)
    parts = [
        f"[default]\naws_access_key_id = {w.akid()}\naws_secret_access_key = {w.secret()}\n",
        f"[{other.org}-prod]\naws_access_key_id={other.akid()}\naws_secret_access_key={other.secret()}\nregion={other.region}\n",
        f"[temp]\naws_access_key_id = {w.akid('ASIA')}\naws_secret_access_key = {w.secret()}\naws_session_token = {w.token(old=n % 2 == 0)}\n"
        f"# expires {zulu(w.when())}\n",
    ]
    if n % 2:
        parts.append(
            f"[legacy]\naws_access_key_id = {w.akid()}\naws_secret_access_key = {w.secret()}\naws_security_token = {w.token()}\n"
        )
    d.text = "\n".join(parts)
    return d


def config_file(v: Values, n: int) -> Doc:
    d = Doc(f"aws-config-file-{n}")
    w = World(v, d)
    prod = d.plant("acct", v.account())
    dev = d.plant("acct", v.account())
    start = d.plant("sso", f"{v.sso_start()}.awsapps.com") if n % 2 else d.plant("sso", f"{w.org}-corp.awsapps.com")
    user = v.person()
    d.text = f"""[default]
region = {w.region}
output = json

[profile {w.org}-prod-admin]
role_arn = {w.arn("iam", "role/OrganizationAccountAccessRole", region=None, account=prod)}
source_profile = default
mfa_serial = {w.iam_arn(f"mfa/{user}")}
role_session_name = {user}
duration_seconds = 3600
region = {w.region}

[profile {w.org}-dev]
sso_session = {w.org}
sso_account_id = {dev}
sso_role_name = AdministratorAccess
region = {w.region}
output = table

[sso-session {w.org}]
sso_start_url = https://{start}/start
sso_region = {w.region}
sso_registration_scopes = sso:account:access

[profile vault-prod]
credential_process = /usr/local/bin/aws-vault export --format=json {w.org}-prod-admin
"""
    return d


def credentials_csv(v: Values, n: int) -> Doc:
    d = Doc(f"credentials-csv-{n}")
    w = World(v, d)
    if n == 1:
        user = f"{w.org}-ci"
        d.text = f"Access key ID,Secret access key\n{w.akid()},{w.secret()}\n"
    elif n == 2:
        rows = ["User name,Password,Access key ID,Secret access key,Console login link"]
        for _ in range(3):
            user = v.person()
            rows.append(f"{user},,{w.akid()},{w.secret()},https://{w.acct}.signin.aws.amazon.com/console")
        d.text = "\n".join(rows) + "\n"
    else:
        user = f"{w.org}-uploader"
        d.text = f"\ufeffUser name,Access key ID,Secret access key\r\n{user},{w.akid()},{w.secret()}\r\n"
    return d


def configure_prompts(v: Values, n: int) -> Doc:
    d = Doc(f"aws-configure-session-{n}")
    w = World(v, d)
    old, new = w.akid(), w.akid()
    osk = d.look("masked4", "****************" + old[-4:])
    sk = w.secret()
    d.text = f"""$ aws configure
AWS Access Key ID [None]: {old}
AWS Secret Access Key [None]: {w.secret()}
Default region name [None]: {w.region}
Default output format [None]: json
$ aws configure --profile {w.org}
AWS Access Key ID [{osk}]: {new}
AWS Secret Access Key [****************{sk[-4:]}]: {sk}
Default region name [{w.region}]:
Default output format [json]:
$ aws configure list
      Name                    Value             Type    Location
      ----                    -----             ----    --------
   profile                <not set>             None    None
access_key     ****************{new[-4:]} shared-credentials-file
secret_key     ****************{sk[-4:]} shared-credentials-file
    region           {w.region:>14}      config-file    ~/.aws/config
$ aws configure get aws_secret_access_key
{sk}
"""
    d.lookalikes.pop(osk)
    return d


def export_credentials(v: Values, n: int) -> Doc:
    d = Doc(f"aws-configure-export-credentials-{n}")
    w = World(v, d)
    t = zulu(w.when())
    ak, sk, tok = w.akid("ASIA"), w.secret(), w.token()
    if n == 1:
        d.text = (
            f"$ aws configure export-credentials --profile {w.org}-dev --format env\n"
            f"export AWS_ACCESS_KEY_ID={ak}\nexport AWS_SECRET_ACCESS_KEY={sk}\nexport AWS_SESSION_TOKEN={tok}\n"
            f"export AWS_CREDENTIAL_EXPIRATION={t}\n"
        )
    elif n == 2:
        d.text = (
            json.dumps(
                {"Version": 1, "AccessKeyId": ak, "SecretAccessKey": sk, "SessionToken": tok, "Expiration": t}, indent=2
            )
            + "\n"
        )
    else:
        d.text = (
            f"$ aws configure export-credentials --format powershell\n"
            f'$Env:AWS_ACCESS_KEY_ID="{ak}"\n$Env:AWS_SECRET_ACCESS_KEY="{sk}"\n$Env:AWS_SESSION_TOKEN="{tok}"\n'
            f'$Env:AWS_CREDENTIAL_EXPIRATION="{t}"\n'
        )
    return d


def sso_cache(v: Values, n: int) -> Doc:
    d = Doc(f"aws-sso-cache-json-{n}")
    w = World(v, d)
    start = d.plant("sso", f"{v.sso_start()}.awsapps.com")
    t = w.when()
    access = d.plant("ssotoken", "aoa" + base64.b64encode(v.randbytes(600)).decode().rstrip("="))
    refresh = d.plant("ssotoken", "aor" + base64.b64encode(v.randbytes(500)).decode().rstrip("="))
    client_secret = d.plant(
        "ssotoken", "eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0." + v.b64url(420) + "." + v.b64url(48)
    )
    cache = {
        "startUrl": f"https://{start}/start",
        "region": w.region,
        "accessToken": access,
        "expiresAt": zulu(t + timedelta(hours=8)),
        "clientId": v.b64url(60),
        "clientSecret": client_secret,
        "registrationExpiresAt": zulu(t + timedelta(days=90)),
        "refreshToken": refresh,
    }
    d.text = f"$ cat ~/.aws/sso/cache/{d.look('sha1', v.hexs(40))}.json\n" + json.dumps(cache) + "\n"
    return d


def cli_cache(v: Values, n: int) -> Doc:
    """~/.aws/cli/cache/<sha1>.json: what assume-role profiles leave behind, request metadata included."""
    d = Doc(f"aws-cli-cache-json-{n}")
    w = World(v, d)
    t = w.when()
    role = f"{w.org}-admin"
    req = w.uuid()
    cache = {
        "Credentials": {
            "AccessKeyId": w.akid("ASIA"),
            "SecretAccessKey": w.secret(),
            "SessionToken": w.token(),
            "Expiration": zulu(t + timedelta(hours=1)).replace("Z", "+00:00"),
        },
        "AssumedRoleUser": {
            "AssumedRoleId": f"{w.uid('AROA')}:botocore-session-{v.epoch()}",
            "Arn": w.arn("sts", f"assumed-role/{role}/botocore-session-{v.epoch()}", region=None),
        },
        "ResponseMetadata": {
            "RequestId": req,
            "HTTPStatusCode": 200,
            "HTTPHeaders": {
                "x-amzn-requestid": req,
                "content-type": "text/xml",
                "content-length": "1467",
                "date": t.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            },
            "RetryAttempts": 0,
        },
    }
    d.text = f"$ ls ~/.aws/cli/cache/\n{d.look('sha1', v.hexs(40))}.json\n$ cat ~/.aws/cli/cache/*.json\n{json.dumps(cache)}\n"
    return d


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = []
    for k in (1, 2):
        docs += [credentials_file(v, k), config_file(v, k), configure_prompts(v, k)]
    docs += [credentials_csv(v, k) for k in (1, 2, 3)]
    docs += [export_credentials(v, k) for k in (1, 2, 3)]
    docs += [sso_cache(v, 1), cli_cache(v, 1), cli_cache(v, 2)]
    return docs
