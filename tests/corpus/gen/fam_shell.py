"""Shell sessions: commands and what they print, as a Bash tool result holds them."""

# ruff: noqa: E501  (templates hold tool output lines as the tools print them)

from __future__ import annotations

import base64
import json
from datetime import timedelta

from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values, iso, zulu
from tests.corpus.gen.world import World


def env_grep(v: Values, n: int) -> Doc:
    d = Doc(f"shell-env-grep-aws-{n}")
    w = World(v, d)
    d.text = f"""$ env | grep -i aws
AWS_DEFAULT_REGION={w.region}
AWS_REGION={w.region}
AWS_ACCESS_KEY_ID={w.akid("ASIA")}
AWS_SECRET_ACCESS_KEY={w.secret()}
AWS_SESSION_TOKEN={w.token()}
AWS_CREDENTIAL_EXPIRATION={zulu(w.when())}
AWS_VAULT={w.org}-prod
$ printenv AWS_ACCOUNT_ID
{w.acct}
"""
    return d


def query_text(v: Values, n: int) -> Doc:
    d = Doc(f"shell-aws-query-text-{n}")
    w = World(v, d)
    ids = [w.id("i", "ec2") for _ in range(3)]
    vols = [w.id("vol") for _ in range(3)]
    d.text = (
        f"""$ aws sts get-caller-identity --query Account --output text
{w.acct}
$ aws ec2 describe-instances --filters Name=tag:env,Values={w.env} --query 'Reservations[].Instances[].InstanceId' --output text
{chr(9).join(ids)}
$ aws ec2 describe-volumes --query 'Volumes[?State==`available`].[VolumeId,Size,CreateTime]' --output text
"""
        + "".join(f"{x}\t{v.choice(['8', '50', '200'])}\t{iso(w.when(), millis=True)}\n" for x in vols)
        + f"""$ aws s3api list-buckets --query 'Buckets[].Name' --output text
{chr(9).join(w.bucket() for _ in range(3))}
$ aws kms list-aliases --query "Aliases[?starts_with(AliasName, 'alias/{w.org}')].[AliasName,TargetKeyId]" --output text
{d.plant("kms", f"alias/{w.org}-{v.app()}")}\t{w.kms_key()}
"""
    )
    return d


def imds(v: Values, n: int) -> Doc:
    d = Doc(f"shell-imds-{n}")
    w = World(v, d)
    role = f"{w.org}-{w.env}-web"
    iid = w.id("i", "ec2")
    doc = {
        "accountId": w.acct,
        "architecture": "x86_64",
        "availabilityZone": w.az(),
        "billingProducts": None,
        "devpayProductCodes": None,
        "marketplaceProductCodes": None,
        "imageId": w.id("ami"),
        "instanceId": iid,
        "instanceType": "m6i.large",
        "kernelId": None,
        "pendingTime": zulu(w.when()),
        "privateIp": v.private_ip(),
        "ramdiskId": None,
        "region": w.region,
        "version": "2017-09-30",
    }
    updated = w.when()
    creds = {
        "Code": "Success",
        "LastUpdated": zulu(updated),
        "Type": "AWS-HMAC",
        "AccessKeyId": w.akid("ASIA"),
        "SecretAccessKey": w.secret(),
        "Token": w.token(),
        "Expiration": zulu(updated + timedelta(hours=6)),
    }
    tok = "AQAEA" + base64.b64encode(v.randbytes(39)).decode()  # IMDSv2 session token: local, not labelled
    d.text = f"""[ec2-user@ip-10-0-3-17 ~]$ TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
[ec2-user@ip-10-0-3-17 ~]$ echo $TOKEN
{tok}
[ec2-user@ip-10-0-3-17 ~]$ curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id
{iid}[ec2-user@ip-10-0-3-17 ~]$ curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/iam/security-credentials/
{role}[ec2-user@ip-10-0-3-17 ~]$ curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/iam/security-credentials/{role}
{json.dumps(creds, indent=2)}[ec2-user@ip-10-0-3-17 ~]$ curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/dynamic/instance-identity/document
{json.dumps(doc, indent=2)}[ec2-user@ip-10-0-3-17 ~]$
"""
    return d


def ssh_ssm(v: Values, n: int) -> Doc:
    d = Doc(f"shell-ssh-ssm-{n}")
    w = World(v, d)
    ip = v.public_ip()
    host = d.plant("host", Values.public_dns(ip, w.region))
    iid = w.id("i", "ec2")
    d.text = f"""$ ssh -i ~/.ssh/{w.org}-ops.pem ec2-user@{host}
The authenticity of host '{host} ({ip})' can't be established.
ED25519 key fingerprint is SHA256:{d.look("b64", base64.b64encode(v.randbytes(32)).decode().rstrip("="))}.
Are you sure you want to continue connecting (yes/no/[fingerprint])? yes
Warning: Permanently added '{host}' (ED25519) to the list of known hosts.
   ,     #_
   ~\\_  ####_        Amazon Linux 2023
  ~~  \\_#####\\
  ~~     \\###|
[ec2-user@ip-10-0-1-44 ~]$ exit
$ aws ssm start-session --target {iid} --region {w.region}

Starting session with SessionId: {v.person().replace(".", "")}-{v.hexs(17)}
sh-5.2$ aws s3 cp /var/log/app.log s3://{w.bucket()}/debug/{iid}/app.log
upload: ../../var/log/app.log to s3://{w.bucket()}/debug/{iid}/app.log
sh-5.2$ exit


Exiting session with sessionId: {v.person().replace(".", "")}-{v.hexs(17)}.
"""
    return d


def git_docker(v: Values, n: int) -> Doc:
    d = Doc(f"shell-git-docker-push-{n}")
    w = World(v, d)
    reg = d.plant("ecr", f"{w.acct}.dkr.ecr.{w.region}.amazonaws.com")
    shas = [w.short_sha() for _ in range(4)]
    layers = [d.look("layer", v.hexs(12)) for _ in range(4)]
    full = w.sha()
    digest = w.digest()
    log = "\n".join(
        f"{s} {m}"
        for s, m in zip(
            shas,
            ["Bump boto3 to 1.34.122", "Fix presign expiry", f"Deploy to {w.env}", "Add retries to SQS consumer"],
            strict=True,
        )
    )
    pushes = "\n".join(f"{x}: Pushed" for x in layers)
    d.text = f"""$ git log --oneline -4
{log}
$ git rev-parse HEAD
{full}
$ docker push {reg}/{w.org}/api:{shas[0]}
The push refers to repository [{reg}/{w.org}/api]
{pushes}
{shas[0]}: digest: {digest} size: 1783
$ aws ecr describe-images --repository-name {w.org}/api --image-ids imageTag={shas[0]} --query 'imageDetails[0].imageDigest' --output text
{digest}
"""
    return d


def base64_pipe(v: Values, n: int) -> Doc:
    d = Doc(f"shell-base64-encode-{n}")
    w = World(v, d)
    ak = w.akid()
    sk = w.secret()
    d.text = f"""$ echo -n '{ak}' | base64
{d.plant("enc", base64.b64encode(ak.encode()).decode())}
$ echo -n '{sk}' | base64
{d.plant("enc", base64.b64encode(sk.encode()).decode())}
$ kubectl create secret generic aws --from-literal=AWS_ACCESS_KEY_ID={ak} --from-literal=AWS_SECRET_ACCESS_KEY={sk} --dry-run=client -o yaml | grep -A2 data
data:
  AWS_ACCESS_KEY_ID: {base64.b64encode(ak.encode()).decode()}
  AWS_SECRET_ACCESS_KEY: {base64.b64encode(sk.encode()).decode()}
"""
    return d


def sync_errors(v: Values, n: int) -> Doc:
    d = Doc(f"shell-s3-sync-errors-{n}")
    w = World(v, d)
    b = w.bucket()
    role = w.arn("sts", f"assumed-role/{w.org}-ci/gha-{v.digits(10)}", region=None)
    d.text = f"""$ aws s3 sync ./build s3://{b}/releases/{w.short_sha()}/ --sse aws:kms --sse-kms-key-id {w.kms_key()}
upload failed: build/app.js to s3://{b}/releases/app.js An error occurred (AccessDenied) when calling the PutObject operation: User: {role} is not authorized to perform: kms:GenerateDataKey on resource: {w.arn("kms", f"key/{w.kms_key()}")} because no identity-based policy allows the kms:GenerateDataKey action
$ aws s3api head-bucket --bucket {b}
An error occurred (403) when calling the HeadBucket operation: Forbidden
$ aws s3api get-bucket-acl --bucket {b} --output text
OWNER\t{d.plant("canonical", v.canonical_user_id())}
GRANTS\tFULL_CONTROL
GRANTEE\t{d.plant("canonical", v.canonical_user_id())}\tCanonicalUser
"""
    return d


def history(v: Values, n: int) -> Doc:
    d = Doc(f"shell-history-{n}")
    w = World(v, d)
    d.text = f"""$ history | grep -i aws | tail -8
  501  aws configure set aws_access_key_id {w.akid()}
  502  aws configure set aws_secret_access_key {w.secret()}
  503  aws sts assume-role --role-arn {w.iam_arn(f"role/{w.org}-admin")} --role-session-name debug --serial-number {w.iam_arn(f"mfa/{v.person()}")} --token-code {v.digits(6)}
  504  export AWS_SESSION_TOKEN={w.token()}
  505  aws ec2 terminate-instances --instance-ids {w.id("i", "ec2")} {w.id("i", "ec2", short=True)}
  506  aws rds describe-db-snapshots --db-instance-identifier {w.org}-prod --query 'DBSnapshots[].DBSnapshotArn'
  507  aws s3 rm s3://{w.bucket()}/tmp/ --recursive
  508  aws cloudfront create-invalidation --distribution-id {d.plant("cdn", v.distribution_id())} --paths "/*"
"""
    return d


def sns_sms(v: Values, n: int) -> Doc:
    """Phone numbers in E.164 (+82 10..., +81 90...) are 12 digits; they are no accounts."""
    d = Doc(f"shell-sns-publish-sms-{n}")
    w = World(v, d)
    kr = d.look("num12", "8210" + v.digits(8))
    jp = d.look("num12", "8190" + v.digits(8))
    topic = w.arn("sns", f"{w.org}-oncall")
    mid = w.uuid()
    d.text = f"""$ aws sns publish --phone-number +{kr} --message "[{w.env}] disk full on {w.id("i", "ec2")}"
{{
    "MessageId": "{mid}"
}}
$ aws sns subscribe --topic-arn {topic} --protocol sms --notification-endpoint +{jp}
{{
    "SubscriptionArn": "pending confirmation"
}}
$ aws sns list-subscriptions-by-topic --topic-arn {topic} --output text
SUBSCRIPTIONS\t+{jp}\t{w.acct}\tsms\t{w.arn("sns", f"{w.org}-oncall:{v.uuid()}")}\t{topic}
SUBSCRIPTIONS\t+{kr}\t{w.acct}\tsms\t{w.arn("sns", f"{w.org}-oncall:{v.uuid()}")}\t{topic}
"""
    return d


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = []
    for k in (1, 2):
        docs += [env_grep(v, k), query_text(v, k), git_docker(v, k)]
    docs += [
        sns_sms(v, 1),
        sns_sms(v, 2),
        imds(v, 1),
        ssh_ssm(v, 1),
        base64_pipe(v, 1),
        sync_errors(v, 1),
        history(v, 1),
        history(v, 2),
    ]
    return docs
