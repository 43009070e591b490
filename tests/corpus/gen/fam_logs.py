"""CloudWatch Logs lines, VPC flow logs (versions 2 to 5), ALB and S3 access logs, CloudTrail files."""

# ruff: noqa: E501  (templates hold tool output lines as the tools print them)

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import AZ_IDS, Values, zulu
from tests.corpus.gen.world import World

V5_FIELDS = (
    "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id "
    "instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr "
    "pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path log-status"
)


def flow_v2(v: Values, n: int) -> Doc:
    d = Doc(f"vpc-flow-logs-v2-{n}")
    w = World(v, d)
    enis = [w.id("eni") for _ in range(2)]
    lines = []
    if n % 2:
        lines.append(
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
        )
    for _ in range(8):
        start = int(v.epoch())
        eni = v.choice(enis)
        if v.r.random() < 0.15:
            lines.append(
                f"2 {w.acct} {eni} - - - - - - - {d.look('epoch', str(start))} {d.look('epoch', str(start + 60))} - NODATA"
            )
            continue
        src, dst = v.private_ip(), v.choice([v.public_ip(), v.private_ip()])
        lines.append(
            f"2 {w.acct} {eni} {src} {dst} {v.r.randint(1024, 65535)} {v.choice(['443', '22', '5432', '53'])} {v.choice(['6', '17'])} "
            f"{v.r.randint(1, 90)} {v.r.randint(40, 90000)} {d.look('epoch', str(start))} {d.look('epoch', str(start + v.r.randint(5, 60)))} "
            f"{v.choice(['ACCEPT', 'ACCEPT', 'REJECT'])} OK"
        )
    d.text = "\n".join(lines) + "\n"
    return d


def flow_v3(v: Values, n: int) -> Doc:
    d = Doc(f"vpc-flow-logs-v3-{n}")
    w = World(v, d)
    vpc, subnet, iid, eni = w.id("vpc"), w.id("subnet"), w.id("i", "ec2"), w.id("eni")
    lines = [
        "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status"
    ]
    for _ in range(6):
        s = int(v.epoch())
        a, b = v.public_ip(), v.private_ip()
        lines.append(
            f"3 {vpc} {subnet} {iid} {eni} {w.acct} IPv4 {a} {b} {v.r.randint(1024, 65535)} 443 {a} {b} 6 "
            f"{v.r.randint(40, 9000)} {v.r.randint(1, 30)} {d.look('epoch', str(s))} {d.look('epoch', str(s + 57))} ACCEPT {v.choice(['2', '3', '18', '19'])} OK"
        )
    d.text = "\n".join(lines) + "\n"
    return d


def flow_v4(v: Values, n: int) -> Doc:
    d = Doc(f"vpc-flow-logs-v4-{n}")
    w = World(v, d)
    eni = w.id("eni")
    lines = []
    for _ in range(6):
        s = int(v.epoch())
        lines.append(
            f"4 {eni} {w.acct} {w.region} {AZ_IDS[w.region]}-az{v.r.randint(1, 3)} - - {v.private_ip()} {v.private_ip()} "
            f"{v.r.randint(1024, 65535)} 5432 6 {v.r.randint(1, 30)} {v.r.randint(40, 9000)} {d.look('epoch', str(s))} {d.look('epoch', str(s + 60))} ACCEPT OK"
        )
    d.text = "\n".join(lines) + "\n"
    return d


def flow_v5(v: Values, n: int) -> Doc:
    d = Doc(f"vpc-flow-logs-v5-{n}")
    w = World(v, d)
    vpc, subnet, iid, eni = w.id("vpc"), w.id("subnet"), w.id("i", "ec2"), w.id("eni")
    lines = [V5_FIELDS] if n % 2 else []
    for _ in range(6):
        s = int(v.epoch())
        svc = v.choice(["S3", "DYNAMODB", "-", "-"])
        src = v.public_ip() if svc != "-" else v.private_ip()
        dst = v.private_ip()
        direction = v.choice(["ingress", "egress"])
        lines.append(
            f"5 {src} {dst} 443 {v.r.randint(1024, 65535)} 6 {d.look('epoch', str(s))} {d.look('epoch', str(s + 57))} IPv4 "
            f"{v.r.randint(1, 30)} {v.r.randint(40, 90000)} {w.acct} {vpc} {subnet} {iid} {eni} {w.region} "
            f"{AZ_IDS[w.region]}-az{v.r.randint(1, 3)} - - ACCEPT 19 {src} {dst} {svc} - {direction} "
            f"{v.choice(['1', '2', '8'] if direction == 'egress' else ['-'])} OK"
        )
    d.text = "\n".join(lines) + "\n"
    return d


def alb_log(v: Values, n: int) -> Doc:
    d = Doc(f"alb-access-log-{n}")
    w = World(v, d)
    lb = f"app/{w.org}-{w.env}-alb/{v.hexs(16)}"
    tg = w.arn("elasticloadbalancing", f"targetgroup/{w.org}-web-tg/{v.hexs(16)}")
    cert = w.arn("acm", f"certificate/{v.uuid()}")
    lines = []
    for _ in range(5):
        t = w.when()
        created = t - timedelta(milliseconds=v.r.randint(5, 900))
        trace = d.look("trace", f"Root=1-{int(t.timestamp()):08x}-{v.hexs(24)}")
        pick = v.r.randint(0, 3)
        if pick == 0:
            path = f"/api/orders/{d.look('num12', v.twelve_digits())}"
        elif pick == 1:
            path = f"/static/app.{w.short_sha()}.js"
        else:
            path = v.choice(["/healthz", "/login"])
        status = v.choice(["200", "200", "304", "403", "502"])
        lines.append(
            f"https {t.strftime('%Y-%m-%dT%H:%M:%S.%f')}Z {lb} {v.public_ip()}:{v.r.randint(1024, 65535)} {v.private_ip()}:8080 "
            f"0.001 0.{v.digits(3)} 0.000 {status} {status} {v.r.randint(100, 900)} {v.r.randint(200, 90000)} "
            f'"GET https://www.{w.org}.example:443{path} HTTP/2.0" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)" '
            f'TLS_AES_128_GCM_SHA256 TLSv1.3 {tg} "{trace}" "www.{w.org}.example" "{cert}" 0 '
            f'{created.strftime("%Y-%m-%dT%H:%M:%S.%f")}Z "forward" "-" "-" "{v.private_ip()}:8080" "{status}" "-" "-" TID_{v.hexs(32)}'
        )
    d.text = "\n".join(lines) + "\n"
    return d


def s3_access_log(v: Values, n: int) -> Doc:
    d = Doc(f"s3-server-access-log-{n}")
    w = World(v, d)
    owner = d.plant("canonical", v.canonical_user_id())
    b = w.bucket()
    role = w.arn("sts", f"assumed-role/{w.org}-etl/etl-{v.epoch()}", region=None)
    lines = []
    for _ in range(4):
        t = w.when()
        key = f"exports/{t:%Y/%m/%d}/part-{v.digits(5)}.parquet"
        host_id = d.look("b64", v.b64(57))
        lines.append(
            f"{owner} {b} [{t:%d/%b/%Y:%H:%M:%S} +0000] {v.public_ip()} {role} {v.chars('0123456789ABCDEF', 16)} "
            f'REST.GET.OBJECT {key} "GET /{b}/{key} HTTP/1.1" 200 - {v.r.randint(1000, 900000)} {v.r.randint(1000, 900000)} '
            f'{v.r.randint(5, 90)} {v.r.randint(1, 40)} "-" "aws-sdk-java/2.25.11 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.10" - '
            f"{host_id} SigV4 TLS_AES_128_GCM_SHA256 AuthHeader {b}.s3.{w.region}.amazonaws.com TLSv1.3 - -"
        )
    d.text = "\n".join(lines) + "\n"
    return d


def cloudtrail_file(v: Values, n: int) -> Doc:
    d = Doc(f"cloudtrail-s3-log-file-{n}")
    w = World(v, d)
    t = w.when()
    role = f"{w.org}-deployer"
    session = f"gha-{v.epoch()}"
    ak = w.akid("ASIA")
    src_ak = w.akid()
    user = v.person()
    records: list[dict[str, Any]] = [
        {
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": w.uid("AIDA"),
                "arn": w.iam_arn(f"user/{user}"),
                "accountId": w.acct,
                "accessKeyId": src_ak,
                "userName": user,
            },
            "eventTime": zulu(t),
            "eventSource": "sts.amazonaws.com",
            "eventName": "AssumeRole",
            "awsRegion": w.region,
            "sourceIPAddress": v.public_ip(),
            "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22",
            "requestParameters": {
                "roleArn": w.iam_arn(f"role/{role}"),
                "roleSessionName": session,
                "durationSeconds": 3600,
            },
            "responseElements": {
                "credentials": {
                    "accessKeyId": ak,
                    "sessionToken": w.token(),
                    "expiration": (t + timedelta(hours=1)).strftime("%b %d, %Y, %I:%M:%S %p"),
                },
                "assumedRoleUser": {
                    "assumedRoleId": f"{w.uid('AROA')}:{session}",
                    "arn": w.arn("sts", f"assumed-role/{role}/{session}", region=None),
                },
            },
            "requestID": w.uuid(),
            "eventID": w.uuid(),
            "readOnly": True,
            "resources": [{"accountId": w.acct, "type": "AWS::IAM::Role", "ARN": w.iam_arn(f"role/{role}")}],
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": w.acct,
            "eventCategory": "Management",
        },
        {
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "Root",
                "principalId": w.acct,
                "arn": w.arn("iam", "root", region=None),
                "accountId": w.acct,
                "accessKeyId": "",
            },
            "eventTime": zulu(t + timedelta(minutes=3)),
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "awsRegion": "us-east-1",
            "sourceIPAddress": v.public_ip(),
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            "requestParameters": None,
            "responseElements": {"ConsoleLogin": "Success"},
            "additionalEventData": {
                "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
                "MobileVersion": "No",
                "MFAUsed": "Yes",
            },
            "eventID": w.uuid(),
            "readOnly": False,
            "eventType": "AwsConsoleSignIn",
            "managementEvent": True,
            "recipientAccountId": w.acct,
            "eventCategory": "Management",
            "tlsDetails": {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": "signin.aws.amazon.com",
            },
        },
    ]
    d.text = json.dumps({"Records": records}, separators=(",", ":")) + "\n"
    return d


def cloudtrail_kms(v: Values, n: int) -> Doc:
    """KMS data events: request and event IDs are UUIDs a few characters from 'kms'; only the key is one."""
    d = Doc(f"cloudtrail-kms-events-{n}")
    w = World(v, d)
    kid = v.kms_key_id()
    key_arn = w.arn("kms", f"key/{kid}")
    role = f"{w.org}-{v.app()}-task"
    recs = []
    for name in ("Decrypt", "GenerateDataKey"):
        t = w.when()
        recs.append(
            {
                "eventVersion": "1.10",
                "userIdentity": {
                    "type": "AssumedRole",
                    "principalId": f"{w.uid('AROA')}:{v.hexs(32)}",
                    "arn": w.arn("sts", f"assumed-role/{role}/{v.hexs(32)}", region=None),
                    "accountId": w.acct,
                    "accessKeyId": w.akid("ASIA"),
                    "invokedBy": "ecs-tasks.amazonaws.com",
                },
                "eventTime": zulu(t),
                "eventSource": "kms.amazonaws.com",
                "eventName": name,
                "awsRegion": w.region,
                "sourceIPAddress": "ecs-tasks.amazonaws.com",
                "userAgent": "ecs-tasks.amazonaws.com",
                "requestParameters": {"keyId": key_arn, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
                if name == "Decrypt"
                else {"keyId": f"alias/{w.org}-data", "keySpec": "AES_256"},
                "responseElements": None,
                "requestID": w.uuid(),
                "eventID": w.uuid(),
                "readOnly": True,
                "resources": [{"accountId": w.acct, "type": "AWS::KMS::Key", "ARN": key_arn}],
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": w.acct,
                "eventCategory": "Management",
            }
        )
    d.plant("kms", f"alias/{w.org}-data")
    d.text = "\n".join(json.dumps(r, separators=(",", ":")) for r in recs) + "\n"
    return d


def cloudwatch_app_logs(v: Values, n: int) -> Doc:
    d = Doc(f"cloudwatch-logs-tail-{n}")
    w = World(v, d)
    fn = f"{w.org}-{v.app()}"
    req = w.uuid()
    stream = f"{w.when():%Y/%m/%d}/[$LATEST]{v.hexs(32)}"
    b = w.bucket()
    t = w.when()
    trace = f"1-{int(t.timestamp()):08x}-{v.hexs(24)}"
    d.look("trace", trace)

    def ts(k: int) -> str:
        return (t + timedelta(milliseconds=k * 41)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"

    pl = {
        "level": "ERROR",
        "location": "handler:57",
        "message": "upload failed",
        "timestamp": (t + timedelta(milliseconds=90)).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3] + "+0000",
        "service": fn,
        "cold_start": True,
        "function_name": fn,
        "function_arn": w.arn("lambda", f"function:{fn}"),
        "function_request_id": req,
        "exception": f"botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the PutObject operation: User: "
        f"{w.arn('sts', f'assumed-role/{fn}-role/{fn}', region=None)} is not authorized to perform: s3:PutObject on resource: "
        f'"{w.d.plant("arn", f"arn:aws:s3:::{b}/uploads/{v.twelve_digits()}.pdf")}" because no identity-based policy allows the s3:PutObject action',
        "xray_trace_id": trace,
    }
    lines = [
        f"{ts(0)} {stream} INIT_START Runtime Version: python:3.12.v27\tRuntime Version ARN: arn:aws:lambda:{w.region}::runtime:{v.hexs(64)}",
        f"{ts(1)} {stream} START RequestId: {req} Version: $LATEST",
        f"{ts(2)} {stream} {json.dumps(pl, separators=(',', ':'))}",
        f"{ts(3)} {stream} END RequestId: {req}",
        f"{ts(4)} {stream} REPORT RequestId: {req}\tDuration: 1203.52 ms\tBilled Duration: 1204 ms\tMemory Size: 256 MB\tMax Memory Used: 88 MB\tInit Duration: 431.08 ms\t",
        f"XRAY TraceId: {trace}\tSegmentId: {v.hexs(16)}\tSampled: true",
    ]
    d.text = "\n".join(lines) + "\n"
    return d


def ecs_logs(v: Values, n: int) -> Doc:
    d = Doc(f"cloudwatch-logs-ecs-container-{n}")
    w = World(v, d)
    q = f"https://sqs.{w.region}.amazonaws.com/{w.acct}/{w.org}-jobs"
    cluster = f"{w.org}-{w.env}"
    task = v.hexs(32)
    host = d.plant("rds", f"{w.org}-{w.env}.cluster-{v.rds_suffix()}.{w.region}.rds.amazonaws.com")
    lines = [
        f"{zulu(w.when())} INFO  [main] c.{w.org}.worker.App - starting worker, queue={q}",
        f"{zulu(w.when())} INFO  [main] c.{w.org}.worker.Db - connecting to jdbc:postgresql://{host}:5432/app?sslmode=require",
        f"{zulu(w.when())} INFO  [main] c.{w.org}.worker.App - task arn {w.arn('ecs', f'task/{cluster}/{task}')}",
        f"{zulu(w.when())} WARN  [pool-1] s.a.a.c.i.RetryableStage - Retrying request id {d.look('uuid', v.uuid())} after 403 from "
        f"sts.{w.region}.amazonaws.com",
        f"{zulu(w.when())} ERROR [pool-1] c.{w.org}.worker.Jobs - job {d.look('num12', v.twelve_digits())} failed: software.amazon.awssdk.services.s3.model.S3Exception: "
        f"Access Denied (Service: S3, Status Code: 403, Request ID: {v.chars('0123456789ABCDEF', 16)}, Extended Request ID: {d.look('b64', v.b64(57))})",
        f"{zulu(w.when())} INFO  [main] c.{w.org}.worker.App - using image {w.d.plant('ecr', f'{w.acct}.dkr.ecr.{w.region}.amazonaws.com')}/{w.org}/worker@{w.digest()}",
    ]
    d.text = "\n".join(lines) + "\n"
    return d


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = []
    for k in (1, 2):
        docs += [flow_v2(v, k), flow_v3(v, k), flow_v4(v, k), flow_v5(v, k), alb_log(v, k)]
        docs += [s3_access_log(v, k), cloudtrail_file(v, k), cloudwatch_app_logs(v, k), ecs_logs(v, k)]
        docs.append(cloudtrail_kms(v, k))
    return docs
