"""aws cloudformation describe-stacks, cloudtrail lookup-events and logs filter-log-events."""

# ruff: noqa: E501  (templates hold tool output lines as the tools print them)

from __future__ import annotations

import json
from typing import Any

from tests.corpus.gen.awscli_fmt import render
from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values, iso, zulu
from tests.corpus.gen.world import World

OUTPUTS = ["json", "text", "table"]


def describe_stacks(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"cloudformation-describe-stacks-{out}-{n}")
    w = World(v, d)
    name = f"{w.org}-{v.app()}-{w.env}"
    sid = w.arn("cloudformation", f"stack/{name}/{v.uuid()}")
    b = w.bucket()
    lb = v.alb_host(f"{w.org}-{w.env}", w.region)
    d.plant("elb", lb)
    api = d.plant("apigw", f"{v.apigw_id()}.execute-api.{w.region}.amazonaws.com")
    outputs = [
        {"OutputKey": "VpcId", "OutputValue": w.id("vpc"), "Description": "VPC", "ExportName": f"{name}-VpcId"},
        {"OutputKey": "AssetsBucketName", "OutputValue": b, "ExportName": f"{name}-AssetsBucket"},
        {"OutputKey": "LoadBalancerDNS", "OutputValue": lb},
        {"OutputKey": "ApiUrl", "OutputValue": f"https://{api}/{w.env}/"},
        {
            "OutputKey": "TaskRoleArn",
            "OutputValue": w.iam_arn(f"role/{name}-TaskRole-{v.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 12)}"),
        },
        {"OutputKey": "DataKeyId", "OutputValue": w.kms_key()},
    ]
    if n % 2:
        outputs.append({"OutputKey": "AccountId", "OutputValue": w.acct})
        outputs.append({"OutputKey": "BuildCommit", "OutputValue": w.sha()})
    resp = {
        "Stacks": [
            {
                "StackId": sid,
                "StackName": name,
                "ChangeSetId": w.arn(
                    "cloudformation", f"changeSet/awscli-cloudformation-package-deploy-{w.epoch()}/{v.uuid()}"
                ),
                "Description": f"{name} service stack",
                "Parameters": [
                    {"ParameterKey": "Env", "ParameterValue": w.env},
                    {"ParameterKey": "ImageTag", "ParameterValue": w.short_sha()},
                ],
                "CreationTime": iso(w.when(), millis=True),
                "LastUpdatedTime": iso(w.when(), millis=True),
                "RollbackConfiguration": {},
                "StackStatus": "UPDATE_COMPLETE",
                "DisableRollback": False,
                "NotificationARNs": [],
                "Capabilities": ["CAPABILITY_IAM"],
                "Outputs": outputs,
                "Tags": [],
                "EnableTerminationProtection": False,
                "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
            }
        ]
    }
    d.text = render("DescribeStacks", resp, out, width=v.choice([200, 300]))
    return d


def trail_event(
    w: World, name: str, source: str, params: dict[str, Any], resources: list[dict[str, str]]
) -> tuple[dict[str, Any], str]:
    v = w.v
    t = w.when()
    role_id = w.uid("AROA")
    session = v.choice(["gha-deploy", f"{v.person()}@{w.org}.example", "terraform"])
    akid = w.akid("ASIA")
    ev_id = w.uuid()
    ev = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"{role_id}:{session}",
            "arn": w.arn("sts", f"assumed-role/{w.name('admin')}/{session}", region=None),
            "accountId": w.acct,
            "accessKeyId": akid,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": w.iam_arn(f"role/{w.name('admin')}"),
                    "accountId": w.acct,
                    "userName": w.name("admin"),
                },
                "attributes": {"creationDate": zulu(t), "mfaAuthenticated": "false"},
            },
        },
        "eventTime": zulu(t),
        "eventSource": source,
        "eventName": name,
        "awsRegion": w.region,
        "sourceIPAddress": v.public_ip(),
        "userAgent": "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8",
        "requestParameters": params,
        "responseElements": None,
        "requestID": w.uuid(),
        "eventID": ev_id,
        "readOnly": name.startswith(("Describe", "Get", "List")),
        "resources": resources,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": w.acct,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{source.split('.')[0]}.{w.region}.amazonaws.com",
        },
    }
    return ev, akid


def lookup_events(v: Values, out: str, n: int) -> Doc:
    """CloudTrailEvent is the event as a JSON string inside the JSON, as the API returns it."""
    d = Doc(f"cloudtrail-lookup-events-{out}-{n}")
    w = World(v, d)
    events = []
    iid = w.id("i", "ec2")
    b = w.bucket()
    for name, source, params, res in (
        (
            "StopInstances",
            "ec2.amazonaws.com",
            {"instancesSet": {"items": [{"instanceId": iid}]}, "force": False},
            [{"ResourceType": "AWS::EC2::Instance", "ResourceName": iid}],
        ),
        (
            "PutBucketPolicy",
            "s3.amazonaws.com",
            {"bucketName": b, "Host": f"{b}.s3.{w.region}.amazonaws.com", "policy": ""},
            [{"ResourceType": "AWS::S3::Bucket", "ResourceName": b}],
        ),
    ):
        ev, akid = trail_event(w, name, source, params, [])
        t = ev["eventTime"]
        events.append(
            {
                "EventId": ev["eventID"],
                "EventName": name,
                "ReadOnly": "false",
                "AccessKeyId": akid,
                "EventTime": t.replace("Z", "+00:00"),
                "EventSource": source,
                "Username": ev["userIdentity"]["principalId"].split(":", 1)[1],
                "Resources": res,
                "CloudTrailEvent": json.dumps(ev, separators=(",", ":")),
            }
        )
    d.text = render("LookupEvents", {"Events": events}, out, width=300)
    return d


def filter_log_events(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"logs-filter-log-events-{out}-{n}")
    w = World(v, d)
    fn = f"{w.org}-{v.app()}-{w.env}"
    t0 = int(v.epoch(millis=True))
    stream = f"{zulu(w.when())[:10].replace('-', '/')}/[$LATEST]{v.hexs(32)}"
    b = w.bucket()
    req = w.uuid()
    msgs = [
        f"START RequestId: {req} Version: $LATEST\n",
        f"[INFO]\t{zulu(w.when())[:-1]}.{v.digits(3)}Z\t{req}\tprocessing s3://{b}/incoming/{w.num12()}.json\n",
        f"[ERROR]\t{zulu(w.when())[:-1]}.{v.digits(3)}Z\t{req}\tAccessDenied: User: {w.arn('sts', f'assumed-role/{fn}-exec/{fn}', region=None)} "
        f"is not authorized to perform: kms:Decrypt on resource: {w.arn('kms', f'key/{w.kms_key()}')} because no identity-based policy allows the kms:Decrypt action\n",
        f"END RequestId: {req}\n",
        f"REPORT RequestId: {req}\tDuration: 812.33 ms\tBilled Duration: 813 ms\tMemory Size: 512 MB\tMax Memory Used: 91 MB\t\n",
    ]
    events = [
        {
            "logStreamName": stream,
            "timestamp": t0 + k * 37,
            "message": m,
            "ingestionTime": t0 + k * 37 + 411,
            "eventId": v.digits(56),
        }
        for k, m in enumerate(msgs)
    ]
    for e in events:
        d.look("epoch", str(e["timestamp"]))
    resp = {"events": events, "searchedLogStreams": []}
    d.text = render("FilterLogEvents", resp, out, width=300)
    d.name = f"logs-filter-log-events-{out}-{n}"
    return d


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = []
    for fn, outs in (
        (describe_stacks, OUTPUTS + ["text"]),
        (lookup_events, ["json", "text", "table"]),
        (filter_log_events, ["json", "text", "table"]),
    ):
        for k, out in enumerate(outs, start=1):
            docs.append(fn(v, out, k))
    return docs
