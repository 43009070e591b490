"""aws sts and aws iam: identities, users, roles, access keys and temporary credentials."""

from __future__ import annotations

import base64
import json
import urllib.parse
from datetime import timedelta
from typing import Any

from tests.corpus.gen.awscli_fmt import render
from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values, iso
from tests.corpus.gen.world import World

OUTPUTS = ["json", "text", "table"]


def get_caller_identity(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"sts-get-caller-identity-{out}-{n}")
    w = World(v, d)
    shape = n % 3
    if shape == 0:
        user = v.person()
        resp = {"UserId": w.uid("AIDA"), "Account": w.acct, "Arn": w.iam_arn(f"user/{user}")}
    elif shape == 1:
        role_id = w.uid("AROA")
        session = f"botocore-session-{v.epoch()}"
        resp = {
            "UserId": f"{role_id}:{session}",
            "Account": w.acct,
            "Arn": w.arn("sts", f"assumed-role/{w.name('deploy')}/{session}", region=None),
        }
    else:
        role_id = w.uid("AROA")
        email = f"{v.person()}@{w.org}.co.kr"
        resp = {
            "UserId": f"{role_id}:{email}",
            "Account": w.acct,
            "Arn": w.arn("sts", f"assumed-role/AWSReservedSSO_AdministratorAccess_{v.hexs(16)}/{email}", region=None),
        }
    d.text = render("GetCallerIdentity", resp, out)
    return d


def user(w: World, name: str) -> dict[str, Any]:
    u: dict[str, Any] = {
        "Path": "/",
        "UserName": name,
        "UserId": w.uid("AIDA"),
        "Arn": w.iam_arn(f"user/{name}"),
        "CreateDate": iso(w.when()),
    }
    if w.v.r.random() < 0.6:
        u["PasswordLastUsed"] = iso(w.when())
    return u


def list_users(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"iam-list-users-{out}-{n}")
    w = World(v, d)
    names = sorted({v.person() for _ in range(4)} | {"ci-deployer", "terraform"})
    resp: dict[str, Any] = {"Users": [user(w, x) for x in names]}
    if n % 2:  # --max-items: the CLI prints its own pagination token, base64 of a small JSON
        marker = v.b64(60)
        token = '{"Marker": "' + marker + '", "boto_truncate_amount": ' + str(len(names)) + "}"
        resp["NextToken"] = d.look("b64", base64.b64encode(token.encode()).decode())
    d.text = render("ListUsers", resp, out, width=v.choice([120, 180]))
    return d


def get_user(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"iam-get-user-{out}-{n}")
    w = World(v, d)
    u = user(w, v.person())
    u["Tags"] = [{"Key": "team", "Value": "platform"}, {"Key": "ticket", "Value": f"OPS-{v.digits(4)}"}]
    d.text = render("GetUser", {"User": u}, out)
    return d


def trust(w: World, kind: int) -> dict[str, Any]:
    if kind == 0:
        principal: dict[str, Any] = {"Service": "ec2.amazonaws.com"}
        cond: dict[str, Any] = {}
    elif kind == 1:
        other = w.d.plant("acct", w.v.account())
        principal = {"AWS": w.arn("iam", "root", region=None, account=other)}
        cond = {"StringEquals": {"sts:ExternalId": w.uuid()}}
    else:
        oidc = f"oidc.eks.{w.region}.amazonaws.com/id/{w.v.chars('0123456789ABCDEF', 32)}"
        w.d.plant("eks", oidc.rsplit("/", 1)[1])
        principal = {"Federated": w.iam_arn(f"oidc-provider/{oidc}")}
        cond = {"StringEquals": {f"{oidc}:sub": "system:serviceaccount:default:app"}}
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if cond:
        stmt["Condition"] = cond
    if kind == 2:
        stmt["Action"] = "sts:AssumeRoleWithWebIdentity"
    return {"Version": "2012-10-17", "Statement": [stmt]}


def list_roles(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"iam-list-roles-{out}-{n}")
    w = World(v, d)
    roles = []
    for k, name in enumerate([w.name(w.env, "web-role"), w.name("cross-account-audit"), w.name("eks-app")]):
        roles.append(
            {
                "Path": "/",
                "RoleName": name,
                "RoleId": w.uid("AROA"),
                "Arn": w.iam_arn(f"role/{name}"),
                "CreateDate": iso(w.when()),
                "AssumeRolePolicyDocument": trust(w, k),
                "MaxSessionDuration": 3600,
            }
        )
    d.text = render("ListRoles", {"Roles": roles}, out, width=v.choice([140, 230]))
    return d


def list_access_keys(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"iam-list-access-keys-{out}-{n}")
    w = World(v, d)
    name = v.person()
    keys = [
        {"UserName": name, "AccessKeyId": w.akid(), "Status": s, "CreateDate": iso(w.when())}
        for s in ("Active", "Inactive")[: v.r.randint(1, 2)]
    ]
    d.text = render("ListAccessKeys", {"AccessKeyMetadata": keys}, out)
    return d


def create_access_key(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"iam-create-access-key-{out}-{n}")
    w = World(v, d)
    resp = {
        "AccessKey": {
            "UserName": w.name("ci"),
            "AccessKeyId": w.akid(),
            "Status": "Active",
            "SecretAccessKey": w.secret(),
            "CreateDate": iso(w.when()),
        }
    }
    d.text = render("CreateAccessKey", resp, out)
    return d


def assume_role(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"sts-assume-role-{out}-{n}")
    w = World(v, d)
    t = w.when()
    role = w.name(w.env, "deployer")
    session = v.choice(["gha-deploy", "tf-plan", f"{v.person()}-cli"])
    resp = {
        "Credentials": {
            "AccessKeyId": w.akid("ASIA"),
            "SecretAccessKey": w.secret(),
            "SessionToken": w.token(),
            "Expiration": iso(t + timedelta(hours=1)),
        },
        "AssumedRoleUser": {
            "AssumedRoleId": f"{w.uid('AROA')}:{session}",
            "Arn": w.arn("sts", f"assumed-role/{role}/{session}", region=None),
        },
    }
    d.text = render("AssumeRole", resp, out, width=400)
    return d


def get_session_token(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"sts-get-session-token-{out}-{n}")
    w = World(v, d)
    resp = {
        "Credentials": {
            "AccessKeyId": w.akid("ASIA"),
            "SecretAccessKey": w.secret(),
            "SessionToken": w.token(old=n % 2 == 0),
            "Expiration": iso(w.when()),
        }
    }
    d.text = render("GetSessionToken", resp, out, width=500)
    return d


def get_role_policy(v: Values, out: str, n: int) -> Doc:
    """get-role returns the trust policy URL-decoded in v2; get-account-authorization-details too."""
    d = Doc(f"iam-get-role-{out}-{n}")
    w = World(v, d)
    name = w.name("audit-readonly")
    resp = {
        "Role": {
            "Path": "/",
            "RoleName": name,
            "RoleId": w.uid("AROA"),
            "Arn": w.iam_arn(f"role/{name}"),
            "CreateDate": iso(w.when()),
            "AssumeRolePolicyDocument": trust(w, 1),
            "Description": "Read-only access for the security account",
            "MaxSessionDuration": 43200,
            "RoleLastUsed": {"LastUsedDate": iso(w.when()), "Region": w.region},
        }
    }
    d.text = render("GetRole", resp, out, width=200)
    return d


def get_policy_version_raw(v: Values, n: int) -> Doc:
    """The Query API (curl, SDK debug logs) returns policy documents percent-encoded."""
    d = Doc(f"iam-get-role-query-api-xml-{n}")
    w = World(v, d)
    name = w.name("lambda-exec")
    b = w.bucket()
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    enc = urllib.parse.quote(json.dumps(policy, separators=(",", ":")), safe="")
    arn = f"arn:aws:iam::{w.acct}:role/{name}"
    w.d.plant("arn", arn)
    inline = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*"}],
    }
    enc2 = urllib.parse.quote(json.dumps(inline, separators=(",", ":")), safe="")
    bucket_arn_enc = urllib.parse.quote(f"arn:aws:s3:::{b}/*", safe="")
    w.d.plant("arn", bucket_arn_enc, f"arn:aws:s3:::{b}/*", glued=True)
    req = w.uuid()
    d.text = (
        '<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">\n'
        "  <GetRoleResult>\n"
        "    <Role>\n"
        "      <Path>/</Path>\n"
        f"      <AssumeRolePolicyDocument>{enc}</AssumeRolePolicyDocument>\n"
        f"      <RoleId>{w.uid('AROA')}</RoleId>\n"
        f"      <RoleName>{name}</RoleName>\n"
        f"      <Arn>{arn}</Arn>\n"
        f"      <CreateDate>{iso(w.when(), millis=True)}</CreateDate>\n"
        "    </Role>\n"
        "  </GetRoleResult>\n"
        "  <ResponseMetadata>\n"
        f"    <RequestId>{req}</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</GetRoleResponse>\n"
        "\n"
        '<GetRolePolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">\n'
        "  <GetRolePolicyResult>\n"
        f"    <PolicyDocument>{enc2}</PolicyDocument>\n"
        "    <PolicyName>read-assets</PolicyName>\n"
        f"    <RoleName>{name}</RoleName>\n"
        "  </GetRolePolicyResult>\n"
        "</GetRolePolicyResponse>\n"
    )
    return d


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = []
    for fn, outs in (
        (get_caller_identity, OUTPUTS * 2),
        (list_users, OUTPUTS),
        (get_user, OUTPUTS),
        (list_roles, OUTPUTS),
        (get_role_policy, ["json", "table"]),
        (list_access_keys, OUTPUTS),
        (create_access_key, OUTPUTS),
        (assume_role, OUTPUTS),
        (get_session_token, ["json", "text", "table", "json"]),
    ):
        seen: dict[str, int] = {}
        for out in outs:
            seen[out] = seen.get(out, 0) + 1
            docs.append(fn(v, out, seen[out]))
    docs.append(get_policy_version_raw(v, 1))
    return docs
