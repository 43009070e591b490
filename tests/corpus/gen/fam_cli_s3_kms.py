"""aws s3, s3api and kms."""

from __future__ import annotations

import json
from typing import Any

from tests.corpus.gen.awscli_fmt import render
from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values, iso
from tests.corpus.gen.world import World

OUTPUTS = ["json", "text", "table"]


def s3_ls(v: Values, n: int) -> Doc:
    d = Doc(f"s3-ls-buckets-{n}")
    w = World(v, d)
    lines = []
    for _ in range(v.r.randint(4, 8)):
        t = w.when()
        lines.append((t, w.bucket(v.choice(["prod", "stg", "dev"]))))
    extra = w.d.plant("bucket", f"cdk-hnb659fds-assets-{w.acct}-{w.region}")
    lines.append((w.when(), extra))
    lines.sort()
    d.text = "".join(f"{t.strftime('%Y-%m-%d %H:%M:%S')} {b}\n" for t, b in lines)
    return d


def s3_ls_objects(v: Values, n: int) -> Doc:
    d = Doc(f"s3-ls-recursive-{n}")
    w = World(v, d)
    rows = []
    for _ in range(v.r.randint(4, 9)):
        t = w.when()
        pick = v.r.randint(0, 3)
        if pick == 0:
            key = f"exports/{t:%Y/%m/%d}/orders-{w.num12()}.csv.gz"
        elif pick == 1:
            key = f"releases/{w.short_sha()}/app.tar.gz"
        elif pick == 2:
            key = f"logs/AWSLogs/{w.acct}/elasticloadbalancing/{w.region}/{t:%Y/%m/%d}/part-{v.digits(5)}.log.gz"
        else:
            key = f"backups/pg/{t:%Y%m%d}T0300Z.dump"
        rows.append((t, v.r.randint(1_000, 90_000_000), key))
    rows.sort()
    head = f"$ aws s3 ls s3://{w.bucket()}/ --recursive\n" if n % 2 else ""
    body = "".join(f"{t:%Y-%m-%d %H:%M:%S} {size:>10} {key}\n" for t, size, key in rows)
    d.text = head + body
    return d


def s3_cp(v: Values, n: int) -> Doc:
    d = Doc(f"s3-cp-sync-output-{n}")
    w = World(v, d)
    b = w.bucket()
    b2 = w.bucket("prod")
    sha = w.short_sha()
    files = ["index.html", "assets/app.js", "assets/app.css", "favicon.ico"]
    lines = [f"upload: dist/{f} to s3://{b}/{sha}/{f}" for f in files]
    lines.append(f"copy: s3://{b}/{sha}/index.html to s3://{b2}/index.html")
    lines.append(f"download: s3://{b2}/config/settings.json to ./settings.json")
    lines.append(f"delete: s3://{b2}/assets/app.{w.short_sha()}.js")
    d.text = "\n".join(lines) + "\n"
    return d


def list_buckets(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"s3api-list-buckets-{out}-{n}")
    w = World(v, d)
    resp: dict[str, Any] = {
        "Buckets": [{"Name": w.bucket(), "CreationDate": iso(w.when())} for _ in range(v.r.randint(2, 5))],
        "Owner": {"DisplayName": f"{w.org}-aws-{w.env}", "ID": d.plant("canonical", v.canonical_user_id())},
    }
    if n % 2 == 0:
        resp["Prefix"] = None
        del resp["Prefix"]
    d.text = render("ListBuckets", resp, out, width=v.choice([110, 180]))
    return d


def bucket_policy(w: World, b: str) -> dict[str, Any]:
    role = w.iam_arn(f"role/{w.name(w.env, 'app')}")
    vpce = w.id("vpce")
    return {
        "Version": "2012-10-17",
        "Id": f"Policy{w.epoch(millis=True, glued=True)}",
        "Statement": [
            {
                "Sid": "AllowApp",
                "Effect": "Allow",
                "Principal": {"AWS": role},
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": w.d.plant("arn", f"arn:aws:s3:::{b}/*"),
            },
            {
                "Sid": "DenyOutsideVpce",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [w.d.plant("arn", f"arn:aws:s3:::{b}"), f"arn:aws:s3:::{b}/*"],
                "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce}},
            },
        ],
    }


def get_bucket_policy(v: Values, out: str, n: int) -> Doc:
    """The CLI prints the policy as one JSON string inside JSON (escaped quotes), as the API returns it."""
    d = Doc(f"s3api-get-bucket-policy-{out}-{n}")
    w = World(v, d)
    b = w.bucket()
    policy = json.dumps(bucket_policy(w, b), separators=(",", ":"))
    d.text = render("GetBucketPolicy", {"Policy": policy}, out)
    if out == "json" and n == 2:
        # piped through jq: the policy as a document
        d.name = f"s3api-get-bucket-policy-jq-{n}"
        d.text = json.dumps(json.loads(policy), indent=2) + "\n"
    return d


def kms_list_keys(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"kms-list-keys-{out}-{n}")
    w = World(v, d)
    keys = []
    for k in range(v.r.randint(2, 4)):
        kid = w.d.plant("kms", v.mrk_key_id()) if k == 0 and n % 2 else w.kms_key()
        keys.append({"KeyId": kid, "KeyArn": w.arn("kms", f"key/{kid}")})
    d.text = render("ListKeys", {"Keys": keys}, out, width=v.choice([100, 160]))
    return d


def kms_list_aliases(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"kms-list-aliases-{out}-{n}")
    w = World(v, d)
    aliases = []
    for name in ("aws/ebs", "aws/s3", "aws/rds"):
        aliases.append(
            {
                "AliasName": f"alias/{name}",
                "AliasArn": w.arn("kms", f"alias/{name}"),
                "TargetKeyId": w.kms_key(),
                "CreationDate": iso(w.when()),
                "LastUpdatedDate": iso(w.when()),
            }
        )
    for app in sorted({v.app() for _ in range(2)}):
        name = w.d.plant("kms", f"alias/{w.org}-{app}-{w.env}")
        kid = w.kms_key()
        aliases.append(
            {
                "AliasName": name,
                "AliasArn": w.arn("kms", name),
                "TargetKeyId": kid,
                "CreationDate": iso(w.when()),
                "LastUpdatedDate": iso(w.when()),
            }
        )
    d.text = render("ListAliases", {"Aliases": aliases}, out, width=v.choice([120, 200]))
    return d


def kms_describe_key(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"kms-describe-key-{out}-{n}")
    w = World(v, d)
    kid = w.kms_key()
    resp = {
        "KeyMetadata": {
            "AWSAccountId": w.acct,
            "KeyId": kid,
            "Arn": w.arn("kms", f"key/{kid}"),
            "CreationDate": iso(w.when()),
            "Enabled": True,
            "Description": f"{w.org} {w.env} data key",
            "KeyUsage": "ENCRYPT_DECRYPT",
            "KeyState": "Enabled",
            "Origin": "AWS_KMS",
            "KeyManager": "CUSTOMER",
            "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
            "KeySpec": "SYMMETRIC_DEFAULT",
            "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
            "MultiRegion": False,
        }
    }
    d.text = render("DescribeKey", resp, out)
    return d


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = [s3_ls(v, 1), s3_ls(v, 2), s3_ls_objects(v, 1), s3_ls_objects(v, 2), s3_cp(v, 1)]
    for fn, outs in (
        (list_buckets, OUTPUTS + ["json"]),
        (get_bucket_policy, ["json", "text", "json"]),
        (kms_list_keys, OUTPUTS + ["json"]),
        (kms_list_aliases, OUTPUTS),
        (kms_describe_key, OUTPUTS),
    ):
        seen: dict[str, int] = {}
        for out in outs:
            seen[out] = seen.get(out, 0) + 1
            docs.append(fn(v, out, seen[out]))
    return docs
