"""Deterministic benchmark corpus: what a Claude Code session about AWS infrastructure looks like.

Mixes AWS CLI JSON output, CloudTrail events, Terraform plans, kubectl output, shell sessions,
application logs, code, and prose with non-ASCII text. Identifiers are generated at random (never
AWS's documented EXAMPLE values) and recorded as ground truth, together with look-alikes that a
masker must leave alone.

    make_text(size_bytes, seed=0) -> str            exactly size_bytes of UTF-8
    make_body(size_bytes, seed=0) -> bytes          a Claude Code-shaped Messages request (JSON)
    make_labelled(size_bytes, seed=0) -> (text, planted, lookalikes)
    make_annotated(size_bytes, seed=0) -> Annotated  the same, with character offsets per occurrence

`python benches/corpus.py [100KB|4MB|<bytes>]` prints what a corpus holds.

`planted` holds one `(kind_label, value)` per occurrence (a value repeats when the same resource is
mentioned again, as in real sessions); every occurrence of a planted value sits in a context a
masker is expected to catch. `lookalikes` holds one string per occurrence of something that must
NOT be masked. Kind labels are this corpus's own (see KINDS), not the catalogue's kinds.
"""

from __future__ import annotations

import base64
import json
import math
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

SIZES = {"100KB": 100_000, "4MB": 4_000_000}

# Ground-truth labels. Values are what the label covers in the text.
KINDS = {
    "ec2-id": "EC2-family resource ID, 8 or 17 lowercase hex after a known prefix",
    "access-key-id": "AKIA/ASIA/ABIA/ACCA/A3T? access key ID",
    "iam-unique-id": "AIDA/AROA/AGPA/AIPA/ANPA/ANVA/APKA/ASCA unique ID",
    "secret-access-key": "40-char secret next to aws_secret_access_key / SecretAccessKey",
    "session-token": "STS session token (IQoJb3JpZ2luX2Vj... / FwoGZXIvYXdz...)",
    "bedrock-api-key": "ABSK + base64",
    "account-id": "12 digits with account context: Account/OwnerId/accountId, ECR host, SQS URL",
    "arn": "a whole ARN, any partition (its account and resource are in it)",
    "s3-bucket": "bucket name in s3://, virtual-host or path-style S3 URLs",
    "s3-bucket-name": 'bare bucket name with weak context (list-buckets "Name", terraform bucket =)',
    "kms-key-id": "KMS key UUID with KMS context (KeyId, TargetKeyId, --key-id)",
    "kms-mrk": "multi-Region KMS key ID mrk-<32 hex>",
    "kms-alias": "alias/<name> in KMS context",
    "rds-host": "RDS cluster/instance endpoint",
    "elb-host": "ELB/ALB/NLB DNS name",
    "eks-host": "EKS API endpoint host",
    "apigw-host": "API Gateway execute-api host",
    "cloudfront-host": "CloudFront distribution host",
    "lambda-url-host": "Lambda function URL host",
}

_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use marks around an annotation index, removed on output
_MARK = re.compile(f"{_OPEN}(\\d+){_CLOSE}")

_HEX = "0123456789abcdef"
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_ALNUM_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
_K8S_HASH = "bcdfghjklmnpqrstvwxz2456789"

_EC2_PREFIXES = [
    "i",
    "ami",
    "vol",
    "snap",
    "vpc",
    "subnet",
    "sg",
    "eni",
    "igw",
    "eigw",
    "nat",
    "rtb",
    "rtbassoc",
    "acl",
    "aclassoc",
    "eipalloc",
    "eipassoc",
    "tgw",
    "tgw-attach",
    "tgw-rtb",
    "pcx",
    "vpce",
    "vpce-svc",
    "lt",
    "dopt",
    "cgw",
    "vgw",
    "vpn",
    "fl",
    "pl",
    "r",
    "fs",
    "fsmt",
    "key",
    "export",
    "import",
]
_KEY_PREFIXES = ["AKIA"] * 6 + ["ASIA"] * 6 + ["ABIA", "ACCA"]
_UNIQUE_PREFIXES = ["AIDA", "AROA", "AGPA", "AIPA", "ANPA", "ANVA", "APKA", "ASCA"]
_REGIONS = ["us-east-1"] * 5 + [
    "us-east-2",
    "us-west-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "ap-northeast-1",
]
_OTHER_PARTITIONS = [
    ("aws-cn", "cn-north-1"),
    ("aws-cn", "cn-northwest-1"),
    ("aws-us-gov", "us-gov-west-1"),
    ("aws-us-gov", "us-gov-east-1"),
    ("aws-iso", "us-iso-east-1"),
    ("aws-iso-b", "us-isob-east-1"),
]
_ORGS = ["northwind", "acme", "globex", "initech", "hooli", "vandelay", "wonka", "tyrell", "soylent"]
_ENVS = ["prod", "staging", "dev", "sandbox", "shared"]
_PURPOSES = [
    "logs",
    "artifacts",
    "backups",
    "data-lake-raw",
    "static-assets",
    "terraform-state",
    "athena-results",
    "ml-datasets",
    "cloudtrail",
    "exports",
]
_APPS = [
    "payments",
    "checkout",
    "ledger",
    "search",
    "ingest",
    "auth",
    "billing",
    "catalog",
    "notify",
    "reports",
    "gateway",
    "scheduler",
]
_PEOPLE = ["alice", "bogdan", "chen.wei", "dara", "eszter", "farid", "giulia", "hiro", "ines", "jonas"]
_INSTANCE_TYPES = ["t3.medium", "t3.large", "m6i.xlarge", "m7g.large", "c6i.2xlarge", "r6g.xlarge"]

_PROSE = [
    "The deploy went out at 14:02 — about ten minutes after the canary turned green.",
    "Naïve retries made it worse: every client hammered the same shard at once.",
    "I think the health check is too strict; a cold JVM needs more than five seconds to answer.",
    "Le cache était froid après le redémarrage, donc la latence a doublé pendant une heure.",
    "Die Migration läuft über Nacht; morgen früh prüfen wir die Zählerstände noch einmal.",
    "本番環境へのデプロイは金曜日の午後には行わないでください。",
    "回滚之后，错误率恢复正常，但延迟仍然偏高。",
    "✅ Tests pass locally; 🚀 shipping after review, unless someone objects.",
    "Résumé of the incident: a misconfigured listener drained the pool… and nobody was paged.",
    "The autoscaler kept adding nodes because pending pods requested more memory than any node had.",
    "We should pin the provider version — the last minor release changed a default silently.",
    "Señor López asked whether the nightly export could move to an earlier window.",
    "It's not a DNS problem. It's never a DNS problem. (It was a DNS problem.) 🙃",
    "The p99 went from 180 ms to 2.4 s while p50 barely moved, which points at a lock, not the network.",
    "Please keep the change small: one module, one test, and a note in the changelog.",
    "Ça marche maintenant, mais je préférerais qu'on comprenne pourquoi avant de fermer le ticket.",
    "Rotating credentials by hand is error-prone; let's script it and run it from CI instead.",
    "Der Fehler tritt nur auf, wenn zwei Jobs gleichzeitig auf dieselbe Datei schreiben.",
    "The dashboard shows a sawtooth pattern — garbage collection, most likely.",
    "Could you summarise what changed between yesterday's plan and today's?",
    "데이터베이스 연결 수가 한계에 가까워지고 있습니다.",
    "Worth noting: the queue depth alarm fired twice but resolved itself within a minute each time.",
    "“Works on my machine” is not a deployment strategy, as the postmortem put it.",
    "Let's not touch the state file directly; import the resource and let the plan show the diff.",
    "Ölçümler düzeldi, fakat bellek kullanımı hâlâ yüksek görünüyor.",
    "The build cache is keyed on the lockfile, so bumping one dependency invalidates everything.",
    "Nothing in the logs before 03:17 UTC — the agent itself may have been down. 🤔",
    "Three options: raise the limit, shard the queue, or batch the writes. I'd batch the writes.",
]

_TOOL_SENTENCES = [
    "Use this tool when the task needs it; prefer the dedicated tools over shell equivalents.",
    "The path must be absolute, not relative to the working directory.",
    "Results are returned in the order they were found; large outputs are truncated.",
    "Do not use this tool to communicate with the user; write plain text in your reply instead.",
    "When several independent calls are needed, make them in the same turn so they run in parallel.",
    "Quote paths that contain spaces, and avoid interactive commands that wait for input.",
    "If the command fails, read the error before retrying with a different approach.",
    "The output is limited to 30000 characters; anything longer is cut and a notice is appended.",
    "Prefer editing existing files over creating new ones unless a new file is clearly required.",
    "Never include secrets in arguments; environment variables are available to the command.",
    "A timeout can be given in milliseconds, up to ten minutes; the default is two minutes.",
    "Check that the parent directory exists before creating files or directories inside it.",
    "Line numbers in the output start at 1 and are separated from the content by a tab.",
    "Patterns use glob syntax; results are sorted by modification time, newest first.",
    "Use the offset and limit parameters to read very long files in pieces.",
    "The tool returns an error if the old text is not unique in the file; give more context.",
]

_SYSTEM_SENTENCES = [
    "You are an interactive command-line assistant that helps users with software engineering tasks.",
    "Be concise: answer in a few lines unless the user asks for detail.",
    "Before changing code, read the surrounding files to follow the project's conventions.",
    "Never guess URLs; only use links the user gave you or that appear in local files.",
    "When you run a command that changes the system, explain what it does and why.",
    "Use the todo list to plan multi-step work and mark items done as soon as they are finished.",
    "Do not add comments to code unless asked, and do not commit unless the user asks you to.",
    "If a hook blocks an action, adjust your approach instead of retrying the same call.",
    "Refuse to write code that could be used maliciously, even if the request seems harmless.",
    "Reference code with the pattern file_path:line_number so the user can navigate to it.",
    "Run the project's lint and type-check commands after finishing a change, if they exist.",
    "Prefer small, verifiable steps; verify each step before starting the next one.",
]


def _entropy(s: str) -> float:
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


@dataclass(frozen=True)
class Span:
    """One annotated occurrence: kind label, value, and character offsets in the text."""

    kind: str
    value: str
    start: int
    end: int


@dataclass
class Annotated:
    """A generated text with its ground truth. Offsets are Python string (code point) offsets."""

    text: str
    planted: list[Span]
    lookalikes: list[Span]
    blocks: list[tuple[str, int, int]]  # (block type, start, end) of each generated block


class _Gen:
    """Random source, a small world of resources that repeat, and the block generators."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.marks: list[tuple[str, str, bool]] = []  # (kind, value, planted?) by mark index
        self.pools: dict[str, list[str]] = {}
        self.arns: dict[str, str] = {}
        self.uses: Counter[str] = Counter()
        self.accounts = [self.digits(12) for _ in range(4)]
        self.org = self.r.choice(_ORGS)

    # -- annotation -----------------------------------------------------------------------------
    def p(self, kind: str, value: str) -> str:
        """A planted identifier, as a mark to be resolved after formatting."""
        self.marks.append((kind, value, True))
        return f"{_OPEN}{len(self.marks) - 1}{_CLOSE}"

    def la(self, value: str) -> str:
        """A look-alike that must not be masked."""
        self.marks.append(("lookalike", value, False))
        return f"{_OPEN}{len(self.marks) - 1}{_CLOSE}"

    # -- random primitives ----------------------------------------------------------------------
    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.r.choices(alphabet, k=n))

    def hexs(self, n: int) -> str:
        return self.chars(_HEX, n)

    def digits(self, n: int) -> str:
        return str(self.r.randint(1, 9)) + self.chars("0123456789", n - 1)

    def uuid(self) -> str:
        h = self.hexs(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{self.r.choice('89ab')}{h[17:20]}-{h[20:]}"

    def ts(self) -> str:
        r = self.r
        return (
            f"20{r.randint(23, 25)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T"
            f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
        )

    def variant(self, key: str, n: int) -> int:
        """Variants 0..n-1 in turn on the first n uses (so a small corpus has them all), then at random."""
        self.uses[key] += 1
        return self.uses[key] - 1 if self.uses[key] <= n else self.r.randrange(n)

    def pick(self, pool: str, make: Callable[[], str], reuse: float = 0.7) -> str:
        items = self.pools.setdefault(pool, [])
        if items and self.r.random() < reuse:
            return self.r.choice(items)
        value = make()
        items.append(value)
        return value

    def distinct(self, make: Callable[[], str], n: int) -> list[str]:
        """Up to n different values from make (a listing names each resource once)."""
        return list(dict.fromkeys(make() for _ in range(n)))

    def name(self) -> str:
        return f"{self.r.choice(_APPS)}-{self.r.choice(_ENVS)}"

    def region(self) -> str:
        return self.r.choice(_REGIONS)

    def public_ip(self) -> str:
        r = self.r
        return f"{r.choice([3, 18, 34, 52, 54])}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"

    def ecr_registry(self, account: str, region: str) -> str:
        return f"{self.p('account-id', account)}.dkr.ecr.{region}.amazonaws.com"

    def sqs_url(self, account: str, region: str, queue: str) -> str:
        return f"https://sqs.{region}.amazonaws.com/{self.p('account-id', account)}/{queue}"

    def ip(self) -> str:
        r = self.r
        return f"10.{r.randint(0, 31)}.{r.randint(0, 255)}.{r.randint(2, 254)}"

    # -- identifiers (raw values) ---------------------------------------------------------------
    def ec2(self, prefix: str) -> str:
        def make() -> str:
            if self.r.random() < 0.12:  # pre-2016 short form
                return f"{prefix}-{self.hexs(8)}"
            return f"{prefix}-0{self.hexs(16)}"

        return self.pick("ec2:" + prefix, make)

    def account(self) -> str:
        if self.r.random() < 0.9:
            return self.r.choice(self.accounts)
        return self.pick("account:external", lambda: self.digits(12), 0.5)

    def access_key(self, prefix: str | None = None) -> str:
        def make() -> str:
            chosen = prefix or self.r.choice(_KEY_PREFIXES)
            if self.r.random() < 0.05:
                chosen = "A3T" + self.chars(_B32, 1)
            return chosen + self.chars(_B32, 16)

        return self.pick("key:" + (prefix or ""), make, 0.4)

    def unique_id(self, prefix: str) -> str:
        return self.pick("uid:" + prefix, lambda: prefix + self.chars(_B32, 17), 0.8)

    def secret(self) -> str:
        while True:
            s = self.chars(_B64, 40)
            if _entropy(s) >= 4.5 and re.search("[A-Z]", s) and re.search("[a-z]", s) and re.search("[0-9]", s):
                return s

    def session_token(self) -> str:
        if self.r.random() < 0.15:
            return "FwoGZXIvYXdzE" + self.chars(_B64, self.r.randint(250, 400)) + "="
        return "IQoJb3JpZ2luX2Vj" + self.chars(_B64, self.r.randint(600, 1000)) + "=="

    def bedrock_key(self) -> str:
        raw = b"BedrockAPIKey-" + self.r.randbytes(self.r.randint(70, 185))
        return "ABSK" + base64.b64encode(raw).decode()

    def bucket(self) -> str:
        def make() -> str:
            base = f"{self.org}-{self.r.choice(_ENVS)}-{self.r.choice(_PURPOSES)}"
            return base + "-" + self.chars(_ALNUM_LOWER, 4) if self.r.random() < 0.7 else base + "-" + self.region()

        return self.pick("bucket", make, 0.8)

    def kms_uuid(self) -> str:
        return self.pick("kms:uuid", self.uuid, 0.75)

    def kms_mrk(self) -> str:
        return self.pick("kms:mrk", lambda: "mrk-" + self.hexs(32), 0.75)

    def kms_alias(self) -> str:
        return self.pick("kms:alias", lambda: f"alias/{self.r.choice(_APPS)}-{self.r.choice(_ENVS)}", 0.75)

    def arn(self, service: str, resource: str, region: str | None = "", account: str | None = None) -> str:
        """The ARN of a resource; the same resource keeps its ARN (and its partition) when seen again."""
        region = self.region() if region is None else region
        account = self.account() if account is None else account
        key = f"{service}:{region}:{account}:{resource}"
        if key not in self.arns:
            partition = "aws"
            if self.r.random() < 0.12:
                partition, other_region = self.r.choice(_OTHER_PARTITIONS)
                region = other_region if region else ""
            self.arns[key] = f"arn:{partition}:{service}:{region}:{account}:{resource}"
        return self.arns[key]

    def role_name(self) -> str:
        return self.pick(
            "role",
            lambda: (
                self.r.choice(["deploy", "ci", "readonly", "admin", "ops", "data-eng"]) + "-" + self.r.choice(_APPS)
            ),
            0.8,
        )

    def rds_host(self, region: str) -> str:
        def make() -> str:
            name = f"{self.r.choice(_APPS)}-{self.r.choice(_ENVS)}"
            ident = self.chars(_ALNUM_LOWER, 12)
            kind = self.r.choice(["cluster-", "cluster-ro-", ""])
            if kind:
                return f"{name}.{kind}{ident}.{region}.rds.amazonaws.com"
            return f"{name}-instance-1.{ident}.{region}.rds.amazonaws.com"

        return self.pick("rds", make, 0.7)

    def elb_host(self, region: str) -> str:
        def make() -> str:
            roll = self.r.random()
            if roll < 0.4:
                return f"{self.name()}-alb-{self.digits(10)}.{region}.elb.amazonaws.com"
            if roll < 0.6:
                return f"internal-{self.name()}-{self.digits(9)}.{region}.elb.amazonaws.com"
            if roll < 0.8:
                return f"{self.name()}-nlb-{self.hexs(16)}.elb.{region}.amazonaws.com"
            return f"a{self.hexs(31)}-{self.digits(10)}.{region}.elb.amazonaws.com"  # made by k8s

        return self.pick("elb", make, 0.7)

    def eks_host(self, region: str) -> str:
        def make() -> str:
            ident = self.hexs(32).upper()
            return f"{ident}.{self.r.choice(['gr7', 'yl4', 'sk1'])}.{region}.eks.amazonaws.com"

        return self.pick("eks", make, 0.8)

    def apigw_host(self, region: str) -> str:
        return self.pick("apigw", lambda: f"{self.chars(_ALNUM_LOWER, 10)}.execute-api.{region}.amazonaws.com")

    def cloudfront_host(self) -> str:
        return self.pick("cf", lambda: f"d{self.chars(_ALNUM_LOWER, 13)}.cloudfront.net")

    def lambda_host(self, region: str) -> str:
        return self.pick("lambda", lambda: f"{self.chars(_ALNUM_LOWER, 32)}.lambda-url.{region}.on.aws")

    # -- look-alikes (raw values) ---------------------------------------------------------------
    def git_sha(self) -> str:
        return self.hexs(40)

    def b64_40(self) -> str:
        return self.secret()

    def truncated_id(self) -> str:
        prefix = self.r.choice(["i", "sg", "vol", "subnet", "vpc", "ami"])
        n = self.r.choice([5, 6, 7, 10, 12, 13, 15])  # neither 8 nor 17
        return f"{prefix}-{self.hexs(n)}"

    def upper_id(self) -> str:
        while True:
            h = ("0" + self.hexs(16)).upper()
            if re.search("[A-F]", h):
                return f"{self.r.choice(['i', 'vol', 'sg', 'subnet'])}-{h}"

    def digits12_context(self) -> str:
        r = self.r
        stamp = (
            f"20{r.randint(20, 25)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
            f"{r.randint(0, 23):02d}{r.randint(0, 59):02d}"
        )  # YYYYMMDDhhmm
        template = r.choice(["order #{} shipped", "ts={}", "bytes_written={}", "trace_seq: {}", "invoice {} paid"])
        return template.format(self.la(stamp if template == "ts={}" else self.digits(12)))

    def lookalike_line(self) -> str:
        """A log line carrying one look-alike of a random type, in a context with no AWS words."""
        r = self.r
        roll = r.randrange(8)
        if roll == 0:
            return f"commit {self.la(self.git_sha())} merged by {r.choice(_PEOPLE)}"
        if roll == 1:
            return f"request_id={self.la(self.uuid())} status=200 path=/v1/{r.choice(_APPS)}"
        if roll == 2:
            return self.digits12_context()
        if roll == 3:
            return f"cursor: {self.la(self.b64_40())}"
        if roll == 4:
            return f"dashboard shows {self.la(self.truncated_id())} (truncated)"
        if roll == 5:
            return f"legacy inventory row: {self.la(self.upper_id())}"
        if roll == 6:
            return f"queue {self.la('msg-' + self.hexs(8))} acked"
        return f"nonce={self.la(self.b64_40())} ok"

    # -- blocks ---------------------------------------------------------------------------------
    def dumps(self, obj: object, compact: bool = False) -> str:
        if compact:
            return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        return json.dumps(obj, ensure_ascii=False, indent=4)

    def cmd(self, text: str) -> str:
        return f"$ {text}\n"

    def b_describe_instances(self) -> str:
        region = self.region()
        reservations = []
        ids = []
        for _ in range(self.r.randint(1, 2)):
            acct = self.account()
            instances = []
            for _ in range(self.r.randint(1, 2)):
                iid, vpc, subnet = self.ec2("i"), self.ec2("vpc"), self.ec2("subnet")
                ids.append(iid)
                sgs = [(self.ec2("sg"), f"{self.name()}-sg") for _ in range(self.r.randint(1, 2))]
                ip = self.ip()
                dns = f"ip-{ip.replace('.', '-')}.ec2.internal"
                groups = [{"GroupName": n, "GroupId": self.p("ec2-id", g)} for g, n in sgs]
                profile = self.role_name()
                instances.append(
                    {
                        "AmiLaunchIndex": 0,
                        "ImageId": self.p("ec2-id", self.ec2("ami")),
                        "InstanceId": self.p("ec2-id", iid),
                        "InstanceType": self.r.choice(_INSTANCE_TYPES),
                        "KeyName": f"{self.org}-{self.r.choice(_ENVS)}",
                        "LaunchTime": self.ts() + "+00:00",
                        "Monitoring": {"State": "disabled"},
                        "Placement": {
                            "AvailabilityZone": region + self.r.choice("abc"),
                            "GroupName": "",
                            "Tenancy": "default",
                        },
                        "PrivateDnsName": dns,
                        "PrivateIpAddress": ip,
                        "ProductCodes": [],
                        "PublicDnsName": "",
                        "State": {"Code": 16, "Name": "running"},
                        "StateTransitionReason": "",
                        "SubnetId": self.p("ec2-id", subnet),
                        "VpcId": self.p("ec2-id", vpc),
                        "Architecture": "x86_64",
                        "BlockDeviceMappings": [
                            {
                                "DeviceName": "/dev/xvda",
                                "Ebs": {
                                    "AttachTime": self.ts() + "+00:00",
                                    "DeleteOnTermination": True,
                                    "Status": "attached",
                                    "VolumeId": self.p("ec2-id", self.ec2("vol")),
                                },
                            }
                        ],
                        "ClientToken": "terraform-" + self.digits(26),
                        "EbsOptimized": True,
                        "EnaSupport": True,
                        "Hypervisor": "xen",
                        "IamInstanceProfile": {
                            "Arn": self.p("arn", self.arn("iam", f"instance-profile/{profile}", account=acct)),
                            "Id": self.p("iam-unique-id", self.unique_id("AIPA")),
                        },
                        "NetworkInterfaces": [
                            {
                                "Description": "",
                                "Groups": groups,
                                "MacAddress": ":".join(self.hexs(2) for _ in range(6)),
                                "NetworkInterfaceId": self.p("ec2-id", self.ec2("eni")),
                                "OwnerId": self.p("account-id", acct),
                                "PrivateDnsName": dns,
                                "PrivateIpAddress": ip,
                                "SourceDestCheck": True,
                                "Status": "in-use",
                                "SubnetId": self.p("ec2-id", subnet),
                                "VpcId": self.p("ec2-id", vpc),
                                "InterfaceType": "interface",
                            }
                        ],
                        "RootDeviceName": "/dev/xvda",
                        "RootDeviceType": "ebs",
                        "SecurityGroups": groups,
                        "SourceDestCheck": True,
                        "Tags": [{"Key": "Name", "Value": self.name()}, {"Key": "team", "Value": self.org}],
                        "VirtualizationType": "hvm",
                        "CpuOptions": {"CoreCount": 1, "ThreadsPerCore": 2},
                        "MetadataOptions": {
                            "State": "applied",
                            "HttpTokens": "required",
                            "HttpPutResponseHopLimit": 2,
                            "HttpEndpoint": "enabled",
                        },
                        "PlatformDetails": "Linux/UNIX",
                        "UsageOperation": "RunInstances",
                    }
                )
            reservations.append(
                {
                    "Groups": [],
                    "Instances": instances,
                    "OwnerId": self.p("account-id", acct),
                    "ReservationId": self.p("ec2-id", self.ec2("r")),
                }
            )
        line = self.cmd(
            f"aws ec2 describe-instances --region {region} --instance-ids " + " ".join(self.p("ec2-id", i) for i in ids)
        )
        return line + self.dumps({"Reservations": reservations})

    def b_network(self) -> str:
        """describe-route-tables / nat gateways / transit gateway attachments: the rarer prefixes."""
        vpc = self.ec2("vpc")
        acct = self.account()
        routes = [
            {
                "DestinationCidrBlock": "10.0.0.0/16",
                "GatewayId": "local",
                "Origin": "CreateRouteTable",
                "State": "active",
            }
        ]
        for target, key in [
            ("igw", "GatewayId"),
            ("nat", "NatGatewayId"),
            ("pcx", "VpcPeeringConnectionId"),
            ("tgw", "TransitGatewayId"),
            ("vgw", "GatewayId"),
            ("eigw", "EgressOnlyInternetGatewayId"),
            ("vpce", "GatewayId"),
        ]:
            if self.r.random() < 0.6:
                routes.append(
                    {
                        "DestinationCidrBlock": f"{self.public_ip().rsplit('.', 2)[0]}.0.0/16",
                        key: self.p("ec2-id", self.ec2(target)),
                        "Origin": "CreateRoute",
                        "State": "active",
                    }
                )
        table = {
            "Associations": [
                {
                    "Main": False,
                    "RouteTableAssociationId": self.p("ec2-id", self.ec2("rtbassoc")),
                    "RouteTableId": self.p("ec2-id", self.ec2("rtb")),
                    "SubnetId": self.p("ec2-id", self.ec2("subnet")),
                    "AssociationState": {"State": "associated"},
                }
            ],
            "PropagatingVgws": [],
            "RouteTableId": self.p("ec2-id", self.ec2("rtb")),
            "Routes": routes,
            "Tags": [{"Key": "Name", "Value": self.name() + "-private"}],
            "VpcId": self.p("ec2-id", vpc),
            "OwnerId": self.p("account-id", acct),
        }
        extra = {
            "NetworkAcls": [
                {
                    "Associations": [
                        {
                            "NetworkAclAssociationId": self.p("ec2-id", self.ec2("aclassoc")),
                            "NetworkAclId": self.p("ec2-id", self.ec2("acl")),
                            "SubnetId": self.p("ec2-id", self.ec2("subnet")),
                        }
                    ],
                    "IsDefault": True,
                    "VpcId": self.p("ec2-id", vpc),
                }
            ],
            "Addresses": [
                {
                    "PublicIp": self.public_ip(),
                    "AllocationId": self.p("ec2-id", self.ec2("eipalloc")),
                    "AssociationId": self.p("ec2-id", self.ec2("eipassoc")),
                    "Domain": "vpc",
                    "InstanceId": self.p("ec2-id", self.ec2("i")),
                }
            ],
            "TransitGatewayAttachments": [
                {
                    "TransitGatewayAttachmentId": self.p("ec2-id", self.ec2("tgw-attach")),
                    "TransitGatewayId": self.p("ec2-id", self.ec2("tgw")),
                    "TransitGatewayOwnerId": self.p("account-id", acct),
                    "Association": {
                        "TransitGatewayRouteTableId": self.p("ec2-id", self.ec2("tgw-rtb")),
                        "State": "associated",
                    },
                    "ResourceType": "vpc",
                    "ResourceId": self.p("ec2-id", vpc),
                    "State": "available",
                }
            ],
            "VpcEndpointServices": [
                {"ServiceId": self.p("ec2-id", self.ec2("vpce-svc")), "ServiceType": [{"ServiceType": "Interface"}]}
            ],
            "LaunchTemplates": [
                {
                    "LaunchTemplateId": self.p("ec2-id", self.ec2("lt")),
                    "LaunchTemplateName": self.name() + "-lt",
                    "LatestVersionNumber": 7,
                }
            ],
            "DhcpOptions": [
                {"DhcpOptionsId": self.p("ec2-id", self.ec2("dopt")), "OwnerId": self.p("account-id", acct)}
            ],
            "VpnConnections": [
                {
                    "VpnConnectionId": self.p("ec2-id", self.ec2("vpn")),
                    "CustomerGatewayId": self.p("ec2-id", self.ec2("cgw")),
                    "VpnGatewayId": self.p("ec2-id", self.ec2("vgw")),
                    "State": "available",
                }
            ],
            "FlowLogs": [
                {
                    "FlowLogId": self.p("ec2-id", self.ec2("fl")),
                    "ResourceId": self.p("ec2-id", vpc),
                    "TrafficType": "ALL",
                }
            ],
            "FileSystems": [
                {"FileSystemId": self.p("ec2-id", self.ec2("fs")), "MountTargetId": self.p("ec2-id", self.ec2("fsmt"))}
            ],
            "KeyPairs": [{"KeyPairId": self.p("ec2-id", self.ec2("key")), "KeyName": f"{self.org}-ops"}],
            "ExportImageTasks": [
                {
                    "ExportImageTaskId": self.p("ec2-id", self.ec2("export")),
                    "ImportTaskId": self.p("ec2-id", self.ec2("import")),
                    "SnapshotId": self.p("ec2-id", self.ec2("snap")),
                }
            ],
        }
        chosen = dict(self.r.sample(sorted(extra.items()), self.r.randint(3, 6)))
        line = self.cmd(f"aws ec2 describe-route-tables --filters Name=vpc-id,Values={self.p('ec2-id', vpc)}")
        return line + self.dumps({"RouteTables": [table], **chosen})

    def b_list_buckets(self) -> str:
        buckets = [
            {"Name": self.p("s3-bucket-name", b), "CreationDate": self.ts() + ".000Z"}
            for b in self.distinct(self.bucket, self.r.randint(3, 8))
        ]
        owner = {"DisplayName": f"{self.org}-{self.r.choice(_ENVS)}", "ID": self.hexs(64)}
        return self.cmd("aws s3api list-buckets") + self.dumps({"Buckets": buckets, "Owner": owner})

    def b_security_groups(self) -> str:
        groups = []
        for _ in range(self.r.randint(1, 3)):
            acct = self.account()
            perms = []
            for _ in range(self.r.randint(1, 3)):
                port = self.r.choice([22, 443, 5432, 6379, 8080, 9090])
                perm: dict[str, object] = {
                    "FromPort": port,
                    "IpProtocol": "tcp",
                    "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "vpc"}],
                    "Ipv6Ranges": [],
                    "PrefixListIds": [],
                    "ToPort": port,
                    "UserIdGroupPairs": [],
                }
                if self.r.random() < 0.5:
                    perm["UserIdGroupPairs"] = [
                        {"GroupId": self.p("ec2-id", self.ec2("sg")), "UserId": self.p("account-id", acct)}
                    ]
                if self.r.random() < 0.3:
                    perm["PrefixListIds"] = [{"PrefixListId": self.p("ec2-id", self.ec2("pl"))}]
                perms.append(perm)
            groups.append(
                {
                    "Description": f"{self.name()} service access",
                    "GroupName": f"{self.name()}-sg",
                    "IpPermissions": perms,
                    "OwnerId": self.p("account-id", acct),
                    "GroupId": self.p("ec2-id", self.ec2("sg")),
                    "IpPermissionsEgress": [
                        {
                            "IpProtocol": "-1",
                            "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                            "Ipv6Ranges": [],
                            "PrefixListIds": [],
                            "UserIdGroupPairs": [],
                        }
                    ],
                    "VpcId": self.p("ec2-id", self.ec2("vpc")),
                }
            )
        return self.cmd("aws ec2 describe-security-groups") + self.dumps({"SecurityGroups": groups})

    def b_caller_identity(self) -> str:
        acct = self.account()
        if self.r.random() < 0.5:
            role, session = self.role_name(), self.r.choice(_PEOPLE)
            obj = {
                "UserId": f"{self.p('iam-unique-id', self.unique_id('AROA'))}:{session}",
                "Account": self.p("account-id", acct),
                "Arn": self.p("arn", self.arn("sts", f"assumed-role/{role}/{session}", account=acct)),
            }
        else:
            user = self.r.choice(_PEOPLE)
            obj = {
                "UserId": self.p("iam-unique-id", self.unique_id("AIDA")),
                "Account": self.p("account-id", acct),
                "Arn": self.p("arn", self.arn("iam", f"user/{user}", account=acct)),
            }
        return self.cmd("aws sts get-caller-identity") + self.dumps(obj)

    def b_assume_role(self) -> str:
        acct, role, session = self.account(), self.role_name(), f"{self.r.choice(_PEOPLE)}-cli"
        obj = {
            "Credentials": {
                "AccessKeyId": self.p("access-key-id", self.access_key("ASIA")),
                "SecretAccessKey": self.p("secret-access-key", self.secret()),
                "SessionToken": self.p("session-token", self.session_token()),
                "Expiration": self.ts() + "+00:00",
            },
            "AssumedRoleUser": {
                "AssumedRoleId": f"{self.p('iam-unique-id', self.unique_id('AROA'))}:{session}",
                "Arn": self.p("arn", self.arn("sts", f"assumed-role/{role}/{session}", account=acct)),
            },
        }
        role_arn = self.p("arn", self.arn("iam", f"role/{role}", account=acct))
        return self.cmd(f"aws sts assume-role --role-arn {role_arn} --role-session-name {session}") + self.dumps(obj)

    def b_cloudtrail(self) -> str:
        records = []
        for _ in range(self.r.randint(1, 3)):
            acct, region = self.account(), self.region()
            role, session = self.role_name(), self.r.choice(_PEOPLE)
            aroa = self.unique_id("AROA")
            identity = {
                "type": "AssumedRole",
                "principalId": f"{self.p('iam-unique-id', aroa)}:{session}",
                "arn": self.p("arn", self.arn("sts", f"assumed-role/{role}/{session}", account=acct)),
                "accountId": self.p("account-id", acct),
                "accessKeyId": self.p("access-key-id", self.access_key("ASIA")),
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": self.p("iam-unique-id", aroa),
                        "arn": self.p("arn", self.arn("iam", f"role/{role}", account=acct)),
                        "accountId": self.p("account-id", acct),
                        "userName": role,
                    },
                    "attributes": {"creationDate": self.ts() + "Z", "mfaAuthenticated": "false"},
                },
            }
            kind = self.variant("cloudtrail", 5)
            kms_event = kind == 3
            if kind == 0:
                source, name = (
                    "ec2.amazonaws.com",
                    self.r.choice(["StopInstances", "StartInstances", "RebootInstances"]),
                )
                params: object = {
                    "instancesSet": {
                        "items": [{"instanceId": self.p("ec2-id", self.ec2("i"))} for _ in range(self.r.randint(1, 3))]
                    }
                }
                response: object = None
            elif kind == 1:
                source, name = "s3.amazonaws.com", self.r.choice(["GetObject", "PutObject"])
                bucket = self.bucket()
                params = {
                    "bucketName": self.p("s3-bucket-name", bucket),
                    "Host": self.p("s3-bucket", bucket) + f".s3.{region}.amazonaws.com",
                    "key": f"exports/{self.ts()[:10]}/part-0000.parquet",
                }
                response = None
            elif kind == 2:
                source, name = "iam.amazonaws.com", "CreateAccessKey"
                user = self.r.choice(_PEOPLE)
                params = {"userName": user}
                response = {
                    "accessKey": {
                        "accessKeyId": self.p("access-key-id", self.access_key("AKIA")),
                        "status": "Active",
                        "userName": user,
                        "createDate": "May 14, 2024, 12:30:11 PM",
                    }
                }
            elif kind == 3:
                source, name = "kms.amazonaws.com", "Decrypt"
                key = self.kms_uuid()
                params = {
                    "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                    "keyId": self.p("arn", self.arn("kms", f"key/{key}", region, acct)),
                }
                response = None
            else:
                source, name = "ssm.amazonaws.com", "GetParameter"
                params = {"name": f"/{self.r.choice(_APPS)}/{self.r.choice(_ENVS)}/db-url", "withDecryption": True}
                response = None
            record: dict[str, object] = {
                "eventVersion": "1.09",
                "userIdentity": identity,
                "eventTime": self.ts() + "Z",
                "eventSource": source,
                "eventName": name,
                "awsRegion": region,
                "sourceIPAddress": self.public_ip(),
                "userAgent": "aws-cli/2.15.30 md/Botocore#1.34.30 ua/2.0 os/linux#6.5",
                "requestParameters": params,
                "responseElements": response,
            }
            # Request and event IDs are UUIDs with no KMS context, except in a KMS event where a
            # masker could reasonably read "kms" nearby: there they are neither planted nor look-alikes.
            uuid_a, uuid_b = self.uuid(), self.uuid()
            record["requestID"] = uuid_a if kms_event else self.la(uuid_a)
            record["eventID"] = uuid_b if kms_event else self.la(uuid_b)
            record.update(
                {
                    "readOnly": False,
                    "eventType": "AwsApiCall",
                    "managementEvent": True,
                    "recipientAccountId": self.p("account-id", acct),
                    "eventCategory": "Management",
                }
            )
            records.append(record)
        if self.r.random() < 0.5:
            return self.cmd("zcat CloudTrail/latest.json.gz") + self.dumps({"Records": records}, compact=True)
        return self.cmd("aws cloudtrail lookup-events --max-results 3 --query 'Events[].CloudTrailEvent'") + self.dumps(
            records
        )

    def b_kms(self) -> str:
        acct, region = self.account(), self.region()
        v = self.variant("kms", 3)  # 0: multi-Region key and aliases, 1: single-Region key, 2: aliases
        out = []
        if v < 2:
            multi = v == 0 or self.r.random() < 0.3
            kind, key = ("kms-mrk", self.kms_mrk()) if multi else ("kms-key-id", self.kms_uuid())
            meta: dict[str, object] = {
                "AWSAccountId": self.p("account-id", acct),
                "KeyId": self.p(kind, key),
                "Arn": self.p("arn", self.arn("kms", f"key/{key}", region, acct)),
                "CreationDate": self.ts() + ".512000+00:00",
                "Enabled": True,
                "Description": f"{self.name()} envelope encryption",
                "KeyUsage": "ENCRYPT_DECRYPT",
                "KeyState": "Enabled",
                "Origin": "AWS_KMS",
                "KeyManager": "CUSTOMER",
                "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
                "KeySpec": "SYMMETRIC_DEFAULT",
                "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
                "MultiRegion": multi,
            }
            out.append(
                self.cmd(f"aws kms describe-key --key-id {self.p(kind, key)}") + self.dumps({"KeyMetadata": meta})
            )
        if v != 1:
            aliases = []
            for alias in self.distinct(self.kms_alias, self.r.randint(2, 4)):
                key = self.kms_uuid()
                aliases.append(
                    {
                        "AliasName": self.p("kms-alias", alias),
                        "AliasArn": self.p("arn", self.arn("kms", alias, region, acct)),
                        "TargetKeyId": self.p("kms-key-id", key),
                        "CreationDate": self.ts() + ".000000+00:00",
                    }
                )
            out.append(self.cmd("aws kms list-aliases") + self.dumps({"Aliases": aliases}))
        return "\n".join(out)

    def b_rds(self) -> str:
        acct, region = self.account(), self.region()
        writer = self.rds_host(region)
        ident = writer.split(".")[0]
        cluster = {
            "DBClusterIdentifier": ident,
            "Status": "available",
            "Engine": "aurora-postgresql",
            "EngineVersion": "15.4",
            "Port": 5432,
            "MasterUsername": "app_admin",
            "Endpoint": self.p("rds-host", writer),
            "ReaderEndpoint": self.p("rds-host", self.rds_host(region)),
            "DBClusterArn": self.p("arn", self.arn("rds", f"cluster:{ident}", region, acct)),
            "VpcSecurityGroups": [{"VpcSecurityGroupId": self.p("ec2-id", self.ec2("sg")), "Status": "active"}],
            "DBSubnetGroup": f"{ident}-subnets",
            "StorageEncrypted": True,
            "KmsKeyId": self.p("arn", self.arn("kms", f"key/{self.kms_uuid()}", region, acct)),
            "AvailabilityZones": [region + "a", region + "b", region + "c"],
            "BackupRetentionPeriod": 7,
            "PreferredBackupWindow": "03:00-04:00",
        }
        return self.cmd("aws rds describe-db-clusters") + self.dumps({"DBClusters": [cluster]})

    def b_elb(self) -> str:
        acct, region = self.account(), self.region()
        lbs = []
        for _ in range(self.r.randint(1, 2)):
            name = self.name()
            lbs.append(
                {
                    "LoadBalancerArn": self.p(
                        "arn",
                        self.arn("elasticloadbalancing", f"loadbalancer/app/{name}/{self.hexs(16)}", region, acct),
                    ),
                    "DNSName": self.p("elb-host", self.elb_host(region)),
                    "CanonicalHostedZoneId": "Z35SXDOTRQ7X7K",
                    "CreatedTime": self.ts() + ".120000+00:00",
                    "LoadBalancerName": name,
                    "Scheme": "internet-facing",
                    "VpcId": self.p("ec2-id", self.ec2("vpc")),
                    "State": {"Code": "active"},
                    "Type": "application",
                    "AvailabilityZones": [
                        {"ZoneName": region + z, "SubnetId": self.p("ec2-id", self.ec2("subnet"))} for z in "ab"
                    ],
                    "SecurityGroups": [self.p("ec2-id", self.ec2("sg"))],
                    "IpAddressType": "ipv4",
                }
            )
        return self.cmd("aws elbv2 describe-load-balancers") + self.dumps({"LoadBalancers": lbs})

    def b_eks(self) -> str:
        acct, region = self.account(), self.region()
        name = f"{self.org}-{self.r.choice(_ENVS)}"
        ca = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t" + self.chars(_B64, 1000) + "="
        cluster = {
            "name": name,
            "arn": self.p("arn", self.arn("eks", f"cluster/{name}", region, acct)),
            "createdAt": self.ts() + ".412000+00:00",
            "version": "1.29",
            "endpoint": "https://" + self.p("eks-host", self.eks_host(region)),
            "roleArn": self.p("arn", self.arn("iam", f"role/{name}-cluster", account=acct)),
            "resourcesVpcConfig": {
                "subnetIds": [self.p("ec2-id", self.ec2("subnet")) for _ in range(3)],
                "securityGroupIds": [self.p("ec2-id", self.ec2("sg"))],
                "clusterSecurityGroupId": self.p("ec2-id", self.ec2("sg")),
                "vpcId": self.p("ec2-id", self.ec2("vpc")),
                "endpointPublicAccess": False,
                "endpointPrivateAccess": True,
            },
            "kubernetesNetworkConfig": {"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4"},
            "status": "ACTIVE",
            "certificateAuthority": {"data": self.la(ca)},
            "platformVersion": "eks.7",
            "encryptionConfig": [
                {
                    "resources": ["secrets"],
                    "provider": {"keyArn": self.p("arn", self.arn("kms", f"key/{self.kms_uuid()}", region, acct))},
                }
            ],
        }
        return self.cmd(f"aws eks describe-cluster --name {name}") + self.dumps({"cluster": cluster})

    # CloudFront, Lambda URLs, API Gateway, SQS and ECR: hosts and URLs that embed names and IDs.
    def b_cloudfront(self) -> str:
        acct = self.account()
        bucket = self.bucket()
        dist_id = "E" + self.chars(_B32, 13)
        item = {
            "Id": dist_id,
            "ARN": self.p("arn", self.arn("cloudfront", f"distribution/{dist_id}", "", acct)),
            "Status": "Deployed",
            "LastModifiedTime": self.ts() + ".000Z",
            "DomainName": self.p("cloudfront-host", self.cloudfront_host()),
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "s3-origin",
                        "DomainName": self.p("s3-bucket", bucket) + ".s3.amazonaws.com",
                        "OriginPath": "",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "Enabled": True,
            "PriceClass": "PriceClass_100",
        }
        return self.cmd("aws cloudfront list-distributions") + self.dumps(
            {"DistributionList": {"Items": [item], "Quantity": 1}}
        )

    def b_lambda_url(self) -> str:
        acct, region = self.account(), self.region()
        fn = f"{self.name()}-handler"
        obj = {
            "FunctionUrl": "https://" + self.p("lambda-url-host", self.lambda_host(region)) + "/",
            "FunctionArn": self.p("arn", self.arn("lambda", f"function:{fn}", region, acct)),
            "AuthType": "AWS_IAM",
            "CreationTime": self.ts() + ".000Z",
        }
        return self.cmd(f"aws lambda get-function-url-config --function-name {fn}") + self.dumps(obj)

    def b_sqs_apigw(self) -> str:
        region = self.region()
        urls = [
            self.sqs_url(self.account(), region, self.name() + self.r.choice(["", "-dlq", ".fifo"]))
            for _ in range(self.r.randint(2, 4))
        ]
        host = self.apigw_host(region)
        return (
            self.cmd("aws sqs list-queues")
            + self.dumps({"QueueUrls": urls})
            + "\n"
            + self.cmd(f"curl -s https://{self.p('apigw-host', host)}/prod/health")
            + '{"status":"ok","version":"1.8.2"}'
        )

    def b_ecr(self) -> str:
        acct, region = self.account(), self.region()
        repos = []
        for _ in range(self.r.randint(1, 3)):
            repo = f"{self.org}/{self.r.choice(_APPS)}"
            repos.append(
                {
                    "repositoryArn": self.p("arn", self.arn("ecr", f"repository/{repo}", region, acct)),
                    "registryId": self.p("account-id", acct),
                    "repositoryName": repo,
                    "repositoryUri": f"{self.ecr_registry(acct, region)}/{repo}",
                    "createdAt": self.ts() + "+00:00",
                    "imageTagMutability": "IMMUTABLE",
                }
            )
        return self.cmd("aws ecr describe-repositories") + self.dumps({"repositories": repos})

    def b_terraform(self) -> str:
        acct, region = self.account(), self.region()
        out = [
            "Terraform used the selected providers to generate the following execution plan. Resource",
            "actions are indicated with the following symbols:",
            "  + create",
            "  ~ update in-place",
            "",
            "Terraform will perform the following actions:",
            "",
        ]
        n = self.r.randint(2, 4)
        for _ in range(n):
            roll = self.variant("terraform", 4)
            name = self.r.choice(_APPS)
            if roll == 0:
                new, old = self.r.sample(_INSTANCE_TYPES, 2)
                out += [
                    f"  # aws_instance.{name} will be updated in-place",
                    f'  ~ resource "aws_instance" "{name}" {{',
                    f'        id                     = "{self.p("ec2-id", self.ec2("i"))}"',
                    f'        ami                     = "{self.p("ec2-id", self.ec2("ami"))}"',
                    f'      ~ instance_type          = "{old}" -> "{new}"',
                    f'        subnet_id              = "{self.p("ec2-id", self.ec2("subnet"))}"',
                    "        vpc_security_group_ids = [",
                    f'            "{self.p("ec2-id", self.ec2("sg"))}",',
                    "        ]",
                    "        tags                   = {",
                    f'            "Name" = "{name}-{self.r.choice(_ENVS)}"',
                    "        }",
                    "        # (31 unchanged attributes hidden)",
                    "    }",
                    "",
                ]
            elif roll == 1:
                bucket = self.bucket()
                out += [
                    f"  # aws_s3_bucket.{name} will be created",
                    f'  + resource "aws_s3_bucket" "{name}" {{',
                    "      + acceleration_status         = (known after apply)",
                    "      + arn                         = (known after apply)",
                    f'      + bucket                      = "{self.p("s3-bucket-name", bucket)}"',
                    "      + bucket_domain_name          = (known after apply)",
                    "      + force_destroy               = false",
                    "      + id                          = (known after apply)",
                    "      + region                      = (known after apply)",
                    "    }",
                    "",
                ]
            elif roll == 2:
                policy = self.arn("iam", f"policy/{name}-access", account=acct)
                out += [
                    f"  # aws_iam_role_policy_attachment.{name} will be created",
                    f'  + resource "aws_iam_role_policy_attachment" "{name}" {{',
                    "      + id         = (known after apply)",
                    f'      + policy_arn = "{self.p("arn", policy)}"',
                    f'      + role       = "{self.role_name()}"',
                    "    }",
                    "",
                ]
            else:
                arn = self.p("arn", self.arn("sqs", name, region, acct))
                url = self.sqs_url(acct, region, name)
                key = self.p("kms-key-id", self.kms_uuid())
                out += [
                    f"  # aws_sqs_queue.{name} will be updated in-place",
                    f'  ~ resource "aws_sqs_queue" "{name}" {{',
                    f'        arn                        = "{arn}"',
                    f'        id                         = "{url}"',
                    f'      ~ kms_master_key_id          = "alias/aws/sqs" -> "{key}"',
                    "      ~ visibility_timeout_seconds = 30 -> 120",
                    "        # (12 unchanged attributes hidden)",
                    "    }",
                    "",
                ]
        out.append(f"Plan: {self.r.randint(0, 3)} to add, {n} to change, 0 to destroy.")
        return self.cmd("terraform plan -no-color") + "\n".join(out)

    def b_kubectl_pods(self) -> str:
        region = self.region()
        ns = self.r.choice(_APPS)
        head = (
            f"{'NAME':<40} {'READY':<7} {'STATUS':<10} {'RESTARTS':<10} {'AGE':<6} {'IP':<15} "
            f"{'NODE':<45} NOMINATED NODE   READINESS GATES"
        )
        lines = [self.cmd(f"kubectl get pods -n {ns} -o wide") + head]
        for _ in range(self.r.randint(6, 20)):
            pod = f"{self.r.choice(_APPS)}-worker-{self.chars(_K8S_HASH, 10)}-{self.chars(_K8S_HASH, 5)}"
            ip = self.ip()
            node = f"ip-{self.ip().replace('.', '-')}.{region}.compute.internal"
            status = self.r.choice(["Running"] * 6 + ["Pending", "CrashLoopBackOff"])
            lines.append(
                f"{pod:<40} {'1/1':<7} {status:<10} {self.r.randint(0, 9):<10} "
                f"{str(self.r.randint(1, 40)) + 'd':<6} {ip:<15} {node:<45} <none>           <none>"
            )
        if self.r.random() < 0.5:
            lines.append("")
            lines.append("$ kubectl get nodes -o jsonpath='{.items[*].spec.providerID}' | tr ' ' '\\n'")
            for _ in range(self.r.randint(2, 5)):
                lines.append(f"aws:///{region}{self.r.choice('abc')}/{self.p('ec2-id', self.ec2('i'))}")
        if self.r.random() < 0.5:
            lines.append("")
            lines.append(self.cmd(f"kubectl get svc -n {ns}").rstrip("\n"))
            lines.append(f"{'NAME':<20} {'TYPE':<13} {'CLUSTER-IP':<15} EXTERNAL-IP")
            lines.append(
                f"{ns + '-public':<20} {'LoadBalancer':<13} {'172.20.14.9':<15} "
                f"{self.p('elb-host', self.elb_host(region))}"
            )
        return "\n".join(lines)

    def b_kubectl_describe(self) -> str:
        acct, region = self.account(), self.region()
        app = self.r.choice(_APPS)
        rs = self.chars(_K8S_HASH, 10)
        pod = f"{app}-{rs}-{self.chars(_K8S_HASH, 5)}"
        repo = f"{self.ecr_registry(acct, region)}/{self.org}/{app}"
        image = f"{repo}:1.{self.r.randint(0, 30)}.0"
        role = self.p("arn", self.arn("iam", f"role/{app}-irsa", account=acct))
        node = f"ip-{self.ip().replace('.', '-')}.{region}.compute.internal"
        text = f"""Name:             {pod}
Namespace:        {app}
Priority:         0
Service Account:  {app}
Node:             {node}/{self.ip()}
Start Time:       Tue, 14 May 2024 09:{self.r.randint(10, 59)}:03 +0000
Labels:           app.kubernetes.io/name={app}
                  pod-template-hash={rs}
Annotations:      eks.amazonaws.com/role-arn: {role}
Status:           Running
IP:               {self.ip()}
Controlled By:    ReplicaSet/{app}-{rs}
Containers:
  {app}:
    Container ID:   containerd://{self.la(self.hexs(64))}
    Image:          {image}
    Image ID:       {repo}@sha256:{self.la(self.hexs(64))}
    Port:           8080/TCP
    State:          Running
      Started:      Tue, 14 May 2024 09:41:17 +0000
    Ready:          True
    Restart Count:  {self.r.randint(0, 4)}
    Limits:
      memory:  512Mi
    Requests:
      cpu:     250m
      memory:  256Mi
    Environment:
      AWS_REGION:                   {region}
      AWS_ROLE_ARN:                 {role}
      AWS_WEB_IDENTITY_TOKEN_FILE:  /var/run/secrets/eks.amazonaws.com/serviceaccount/token
      DATABASE_HOST:                {self.p("rds-host", self.rds_host(region))}
      EVENTS_QUEUE_URL:             {self.sqs_url(acct, region, app + "-events")}
      ARTIFACT_BUCKET:              s3://{self.p("s3-bucket", self.bucket())}/releases/
Conditions:
  Type              Status
  Initialized       True
  Ready             True
Events:
  Type     Reason     Age                  From     Message
  ----     ------     ----                 ----     -------
  Normal   Pulled     12m                  kubelet  Container image already present on machine
  Warning  BackOff    3m (x4 over 11m)     kubelet  Back-off restarting failed container"""
        return self.cmd(f"kubectl describe pod -n {app} {pod}") + text

    def b_shell(self) -> str:
        parts = []
        region = self.region()
        for roll in sorted({self.variant("shell", 8) for _ in range(self.r.randint(2, 4))}):
            if roll == 0:
                parts.append(
                    self.cmd("cat ~/.aws/credentials")
                    + "\n".join(
                        [
                            "[default]",
                            f"aws_access_key_id = {self.p('access-key-id', self.access_key('AKIA'))}",
                            f"aws_secret_access_key = {self.p('secret-access-key', self.secret())}",
                            "",
                            f"[{self.org}-{self.r.choice(_ENVS)}]",
                            f"aws_access_key_id = {self.p('access-key-id', self.access_key('ASIA'))}",
                            f"aws_secret_access_key = {self.p('secret-access-key', self.secret())}",
                            f"aws_session_token = {self.p('session-token', self.session_token())}",
                            f"region = {region}",
                        ]
                    )
                )
            elif roll == 1:
                parts.append(
                    self.cmd("env | grep -E '^AWS_' | sort")
                    + "\n".join(
                        [
                            f"AWS_ACCESS_KEY_ID={self.p('access-key-id', self.access_key())}",
                            f"AWS_BEARER_TOKEN_BEDROCK={self.p('bedrock-api-key', self.bedrock_key())}",
                            f"AWS_DEFAULT_REGION={region}",
                            f"AWS_SECRET_ACCESS_KEY={self.p('secret-access-key', self.secret())}",
                            f"AWS_SESSION_TOKEN={self.p('session-token', self.session_token())}",
                        ]
                    )
                )
            elif roll == 2:
                lines = [f"{self.la(self.hexs(7))} {self.r.choice(_PROSE_COMMITS)}" for _ in range(5)]
                parts.append(self.cmd("git log --oneline -5") + "\n".join(lines))
            elif roll == 3:
                bucket = self.bucket()
                uri = f"s3://{self.p('s3-bucket', bucket)}/releases/{self.r.choice(_APPS)}.zip"
                files = [
                    f"2024-05-{self.r.randint(1, 28):02d} 12:{self.r.randint(10, 59)}:11 "
                    f"{self.r.randint(1000, 99999999):>12} part-{i:04d}.parquet"
                    for i in range(4)
                ]
                parts.append(
                    self.cmd(f"aws s3 ls s3://{self.p('s3-bucket', bucket)}/exports/")
                    + "\n".join(files)
                    + "\n"
                    + self.cmd(f"aws s3 cp build.zip {uri}")
                    + f"upload: ./build.zip to {uri}"
                )
            elif roll == 4:
                bucket = self.bucket()
                key = self.access_key("AKIA")
                url = (
                    f"https://{self.p('s3-bucket', bucket)}.s3.{region}.amazonaws.com/reports/q2.csv"
                    f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={self.p('access-key-id', key)}"
                    f"%2F20240514%2F{region}%2Fs3%2Faws4_request&X-Amz-Date=20240514T123011Z"
                    f"&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature={self.hexs(64)}"
                )
                other = self.p("s3-bucket", self.bucket())
                path_style = f"https://s3.{region}.amazonaws.com/{other}/index.html"
                parts.append(
                    self.cmd(f"aws s3 presign s3://{self.p('s3-bucket', bucket)}/reports/q2.csv")
                    + url
                    + "\n"
                    + self.cmd(f"curl -sI {path_style}")
                    + "HTTP/1.1 403 Forbidden"
                )
            elif roll == 5:
                host = self.rds_host(region)
                parts.append(
                    self.cmd(f"psql -h {self.p('rds-host', host)} -U app -d {self.r.choice(_APPS)}")
                    + "psql: error: connection to server failed: timeout expired"
                )
            elif roll == 6:
                acct = self.account()
                reg = self.ecr_registry(acct, region)
                parts.append(
                    self.cmd(f"aws ecr get-login-password | docker login --username AWS --password-stdin {reg}")
                    + "Login Succeeded\n"
                    + self.cmd(f"docker push {reg}/{self.org}/{self.r.choice(_APPS)}:latest")
                    + f"latest: digest: sha256:{self.la(self.hexs(64))} size: 2417"
                )
            else:
                parts.append(
                    self.cmd("tail -n 5 /var/log/app/worker.log")
                    + "\n".join(
                        f"2024-05-14T12:{self.r.randint(10, 59)}:{self.r.randint(10, 59)}Z INFO "
                        + self.lookalike_line()
                        for _ in range(5)
                    )
                )
        return "\n".join(parts)

    def b_logs(self) -> str:
        lines = []
        for _ in range(self.r.randint(8, 20)):
            stamp = f"2024-05-14 {self.ts()[11:]}.{self.r.randint(100, 999)}"
            level = self.r.choice(["INFO"] * 5 + ["WARN", "ERROR", "DEBUG"])
            if self.r.random() < 0.5:
                lines.append(f"{stamp} {level} [{self.r.choice(_APPS)}] {self.lookalike_line()}")
            else:
                lines.append(
                    f"{stamp} {level} [{self.r.choice(_APPS)}] handled {self.r.randint(1, 900)} "
                    f"jobs in {self.r.randint(2, 900)} ms"
                )
        unit = self.r.choice(_APPS)
        return self.cmd(f"journalctl -u {unit} --since '10 min ago' --no-pager") + "\n".join(lines)

    def b_prose(self) -> str:
        paragraphs = []
        for _ in range(self.r.randint(2, 5)):
            paragraphs.append(" ".join(self.r.choice(_PROSE) for _ in range(self.r.randint(3, 8))))
        if self.r.random() < 0.3:
            sha = self.la(self.hexs(self.r.choice([7, 10, 12])))
            paragraphs.append(f"(Reverted in {sha} — see the thread.)")
        return "\n\n".join(paragraphs)

    def b_code(self) -> str:
        roll = self.variant("code", 4)
        app = self.r.choice(_APPS)
        if roll == 0:
            return f'''```python
import boto3

BUCKET = "{self.p("s3-bucket-name", self.bucket())}"
TABLE_KMS_KEY = "{self.p("arn", self.arn("kms", "key/" + self.kms_uuid(), None))}"


def export_{app}(day: str) -> str:
    """Copy one day of {app} events to the archive and return the object URI."""
    s3 = boto3.client("s3")
    key = f"{app}/{{day}}/events.jsonl.gz"
    s3.upload_file("/tmp/events.jsonl.gz", BUCKET, key, ExtraArgs={{"SSEKMSKeyId": TABLE_KMS_KEY}})
    return f"s3://{{BUCKET}}/{{key}}"


def test_export_uses_archive_bucket(monkeypatch):
    calls = []
    monkeypatch.setattr(boto3, "client", lambda name: FakeS3(calls))
    assert export_{app}("2024-05-14").startswith("s3://")
    assert calls[0]["request_id"] != "{self.la(self.uuid())}"
```'''
        if roll == 1:
            role = self.p("arn", self.arn("iam", f"role/github-{app}-deploy"))
            return f"""```yaml
name: deploy-{app}
on:
  push:
    branches: [main]
permissions:
  id-token: write
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{self.la(self.git_sha())}
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: {role}
          aws-region: {self.region()}
      - run: aws s3 sync ./dist s3://{self.p("s3-bucket", self.bucket())}/ --delete
```"""
        if roll == 2:
            return f'''```go
// retryDelay returns the backoff for attempt n, capped at 30 s — jitter avoids thundering herds.
func retryDelay(n int) time.Duration {{
\tbase := 100 * time.Millisecond
\td := base << uint(n)
\tif d > 30*time.Second {{
\t\td = 30 * time.Second
\t}}
\treturn d/2 + time.Duration(rand.Int63n(int64(d/2)))
}}

const fixtureChecksum = "{self.la(self.hexs(40))}" // sha1 of testdata/{app}.golden
```'''
        return f'''```hcl
resource "aws_instance" "{app}" {{
  ami                    = "{self.p("ec2-id", self.ec2("ami"))}"
  instance_type          = "{self.r.choice(_INSTANCE_TYPES)}"
  subnet_id              = "{self.p("ec2-id", self.ec2("subnet"))}"
  vpc_security_group_ids = ["{self.p("ec2-id", self.ec2("sg"))}"]
  iam_instance_profile   = "{app}-profile"

  root_block_device {{
    encrypted  = true
    kms_key_id = "{self.p("arn", self.arn("kms", "key/" + self.kms_mrk(), None))}"
  }}
}}
```'''

    BLOCKS: dict[str, tuple[str, float]] = {
        # name: (group, weight by count)
        "describe_instances": ("aws", 5),
        "network": ("aws", 3),
        "list_buckets": ("aws", 1.5),
        "security_groups": ("aws", 3),
        "caller_identity": ("aws", 1.5),
        "assume_role": ("aws", 1),
        "cloudtrail": ("aws", 4),
        "kms": ("aws", 2),
        "rds": ("aws", 1.5),
        "elb": ("aws", 1.5),
        "eks": ("aws", 1),
        "cloudfront": ("aws", 0.75),
        "lambda_url": ("aws", 0.75),
        "sqs_apigw": ("aws", 0.75),
        "ecr": ("aws", 0.75),
        "terraform": ("terraform", 3),
        "kubectl_pods": ("kubectl", 1.5),
        "kubectl_describe": ("kubectl", 1.5),
        "shell": ("shell", 4),
        "logs": ("logs", 2),
        "prose": ("prose", 7),
        "code": ("code", 5),
    }

    def block(self, name: str) -> str:
        return getattr(self, "b_" + name)()  # type: ignore[no-any-return]


_PROSE_COMMITS = [
    "Fix flaky retry test",
    "Bump provider to 5.49",
    "Add lifecycle rule for exports",
    "Tighten security group for workers",
    "Move secrets to SSM",
    "Raise queue visibility timeout",
    "Document the restore runbook",
    "Drop unused IAM policy",
]


def _resolve(gen: _Gen, chunk: str, base: int, planted: list[Span], lookalikes: list[Span]) -> str:
    """Replace the marks in `chunk` by their values; record spans at offset `base`."""
    out: list[str] = []
    pos = 0
    length = base
    for m in _MARK.finditer(chunk):
        before = chunk[pos : m.start()]
        out.append(before)
        length += len(before)
        kind, value, is_planted = gen.marks[int(m.group(1))]
        (planted if is_planted else lookalikes).append(Span(kind, value, length, length + len(value)))
        out.append(value)
        length += len(value)
        pos = m.end()
    out.append(chunk[pos:])
    return "".join(out)


_FILLER = (
    "Notes: nothing further to report for this window, the service stayed healthy and the queue drained normally. "
) * 4


def _generate(gen: _Gen, size_bytes: int, names: list[str] | None = None) -> Annotated:
    """Blocks until size_bytes of UTF-8, then cut (outside any span) and pad to exactly size_bytes."""
    names = names or list(_Gen.BLOCKS)
    weights = [_Gen.BLOCKS[n][1] for n in names]
    order = gen.r.sample(names, len(names))  # every block type once first, so small texts cover all kinds
    planted: list[Span] = []
    lookalikes: list[Span] = []
    blocks: list[tuple[str, int, int]] = []
    pieces: list[str] = []
    chars = nbytes = 0
    i = 0
    while nbytes < size_bytes:
        name = order[i] if i < len(order) else gen.r.choices(names, weights)[0]
        i += 1
        text = _resolve(gen, gen.block(name), chars, planted, lookalikes) + "\n\n"
        blocks.append((name, chars, chars + len(text)))
        pieces.append(text)
        chars += len(text)
        nbytes += len(text.encode())
    text = "".join(pieces)
    # Cut at size_bytes (on a character boundary, never inside a span), then pad with ASCII filler.
    cut = len(text.encode()[:size_bytes].decode(errors="ignore"))
    for span in planted + lookalikes:
        if span.start < cut < span.end:
            cut = span.start
    text = text[:cut]
    missing = size_bytes - len(text.encode())
    text += (" " + _FILLER * (missing // len(_FILLER) + 1))[:missing]
    return Annotated(
        text=text,
        planted=[s for s in planted if s.end <= cut],
        lookalikes=[s for s in lookalikes if s.end <= cut],
        blocks=[(n, s, min(e, len(text))) for n, s, e in blocks if s < cut],
    )


def make_annotated(size_bytes: int, seed: int = 0) -> Annotated:
    """The text with its ground truth, with code point offsets of every occurrence."""
    return _generate(_Gen(seed), size_bytes)


def make_labelled(size_bytes: int, seed: int = 0) -> tuple[str, list[tuple[str, str]], list[str]]:
    """(text, planted [(kind_label, value)] one per occurrence, look-alikes one per occurrence)."""
    a = make_annotated(size_bytes, seed)
    return a.text, [(s.kind, s.value) for s in a.planted], [s.value for s in a.lookalikes]


def make_text(size_bytes: int, seed: int = 0) -> str:
    """Exactly size_bytes of UTF-8 text."""
    return make_annotated(size_bytes, seed).text


# -- Claude Code-shaped request body -----------------------------------------------------------------

_TOOLS = [  # (name, description length in bytes, {property: type})
    ("Task", 5200, {"description": "string", "prompt": "string", "subagent_type": "string"}),
    ("Bash", 9800, {"command": "string", "timeout": "number", "description": "string", "run_in_background": "boolean"}),
    ("Glob", 900, {"pattern": "string", "path": "string"}),
    (
        "Grep",
        2400,
        {
            "pattern": "string",
            "path": "string",
            "glob": "string",
            "output_mode": "string",
            "-i": "boolean",
            "-n": "boolean",
            "head_limit": "number",
            "multiline": "boolean",
        },
    ),
    ("ExitPlanMode", 1300, {"plan": "string"}),
    ("Read", 1900, {"file_path": "string", "offset": "number", "limit": "number"}),
    ("Edit", 1500, {"file_path": "string", "old_string": "string", "new_string": "string", "replace_all": "boolean"}),
    ("Write", 900, {"file_path": "string", "content": "string"}),
    (
        "NotebookEdit",
        800,
        {
            "notebook_path": "string",
            "cell_id": "string",
            "new_source": "string",
            "cell_type": "string",
            "edit_mode": "string",
        },
    ),
    ("WebFetch", 1600, {"url": "string", "prompt": "string"}),
    ("TodoWrite", 8600, {"todos": "array"}),
    ("WebSearch", 1000, {"query": "string", "allowed_domains": "array", "blocked_domains": "array"}),
    ("BashOutput", 600, {"bash_id": "string", "filter": "string"}),
    ("KillShell", 300, {"shell_id": "string"}),
    ("AskUserQuestion", 1800, {"questions": "array"}),
    ("Skill", 1200, {"command": "string"}),
    ("SlashCommand", 1400, {"command": "string"}),
    ("mcp__aws-api__call_aws", 3200, {"cli_command": "string", "max_results": "number"}),
    ("mcp__aws-api__suggest_aws_commands", 1500, {"query": "string"}),
    ("mcp__aws-docs__search_documentation", 1100, {"search_phrase": "string", "limit": "number"}),
]


def _enc(obj: object) -> bytes:
    """JSON as JavaScript's JSON.stringify writes it (compact, non-ASCII kept)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _sentences(gen: _Gen, pool: list[str], size: int, sep: str = " ") -> str:
    out: list[str] = []
    n = 0
    while n < size:
        s = gen.r.choice(pool)
        out.append(s)
        n += len(s) + len(sep)
    return sep.join(out)


def _tools(gen: _Gen) -> list[dict[str, object]]:
    tools = []
    for name, size, props in _TOOLS:
        desc = f"{name}: " + _sentences(gen, _TOOL_SENTENCES, size, "\n- ")
        schema = {
            "type": "object",
            "properties": {p: {"type": t, "description": gen.r.choice(_TOOL_SENTENCES)} for p, t in props.items()},
            "required": [next(iter(props))],
            "additionalProperties": False,
            "$schema": "http://json-schema.org/draft-07/schema#",
        }
        tools.append({"name": name, "description": desc, "input_schema": schema})
    return tools


def _tool_id(gen: _Gen) -> str:
    return "toolu_01" + gen.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 22)


def _turn(gen: _Gen) -> tuple[dict[str, object], dict[str, object]]:
    """One assistant message (thinking, text, tool_use) and the user's tool_result for it."""
    names = [n for n in _Gen.BLOCKS if n != "prose"]
    name = gen.r.choices(names, [_Gen.BLOCKS[n][1] for n in names])[0]
    planted: list[Span] = []
    output = _resolve(gen, gen.block(name), 0, planted, [])
    mentioned = [s.value for s in planted if len(s.value) < 120][:3] or ["the output"]
    tool_id = _tool_id(gen)
    if output.startswith("$ "):
        command, _, output = output[2:].partition("\n")
        tool = {
            "type": "tool_use",
            "id": tool_id,
            "name": "Bash",
            "input": {"command": command, "description": f"Inspect {gen.r.choice(_APPS)} resources"},
        }
    else:
        path = f"/home/dev/infra/{gen.r.choice(_APPS)}/{gen.r.choice(['main.py', 'deploy.yml', 'retry.go'])}"
        tool = {"type": "tool_use", "id": tool_id, "name": "Read", "input": {"file_path": path}}
        output = "\n".join(f"{i:>6}\t{line}" for i, line in enumerate(output.splitlines(), 1))
    thinking = (
        f"The user wants to know why {gen.r.choice(_APPS)} is failing. {mentioned[0]} looks "
        f"relevant; " + _sentences(gen, _PROSE, gen.r.randint(150, 900))
    )
    text = f"Let me check {' and '.join(f'`{m}`' for m in mentioned)}. " + gen.r.choice(_PROSE)
    assistant = {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": thinking, "signature": "Eq" + gen.chars(_B64, gen.r.randint(400, 1200))},
            {"type": "text", "text": text},
            tool,
        ],
    }
    result: dict[str, object] = {"type": "tool_result", "tool_use_id": tool_id, "content": output}
    if gen.r.random() < 0.3:
        result["content"] = [{"type": "text", "text": output}]
    return assistant, {"role": "user", "content": [result]}


def make_body(size_bytes: int, seed: int = 0) -> bytes:
    """A Claude Code-shaped `POST /v1/messages` body of size_bytes (exact from ~70 KB: tools and system)."""
    gen = _Gen(seed)
    system_prompt = "\n\n".join(
        f"# {title}\n" + _sentences(gen, _SYSTEM_SENTENCES, 900)
        for title in [
            "Tone and style",
            "Doing tasks",
            "Tool usage policy",
            "Task management",
            "Code references",
            "Security",
            "Git",
            "Following conventions",
        ]
    )
    system_prompt += (
        "\n\n<env>\nWorking directory: /home/dev/infra\nIs directory a git repo: Yes\n"
        "Platform: linux\nOS Version: Linux 6.8.0-45-generic\nToday's date: 2025-11-26\n</env>"
    )
    claude_md = "\n".join(
        [
            "<system-reminder>",
            "Contents of /home/dev/infra/CLAUDE.md (project instructions, checked in):",
            "",
            f"- Production account: {gen.accounts[0]}; staging account: {gen.accounts[1]}.",
            f"- Terraform state lives in s3://{gen.bucket()}/state/ (locking table tf-locks).",
            f"- Deploy role: {gen.arn('iam', 'role/' + gen.role_name(), account=gen.accounts[0])}",
            "- Never run `terraform apply` without showing the plan first.",
            "</system-reminder>",
        ]
    )
    body: dict[str, object] = {
        "model": "claude-sonnet-4-5-20250929",
        "messages": [],
        "system": [
            {
                "type": "text",
                "text": f"x-anthropic-billing-header: cc_version=2.1.197.{gen.hexs(3)}; cc_entrypoint=cli;",
            },
            {
                "type": "text",
                "text": "You are a command-line assistant for software engineering work.",
                "cache_control": {"type": "ephemeral"},
            },
            {"type": "text", "text": system_prompt, "cache_control": {"type": "ephemeral"}},
        ],
        "tools": _tools(gen),
        "metadata": {"user_id": f"user_{gen.hexs(64)}_account_{gen.uuid()}_session_{gen.uuid()}"},
        "max_tokens": 32000,
        "thinking": {"type": "enabled", "budget_tokens": 31999},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "stream": True,
    }
    messages: list[dict[str, object]] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": claude_md},
                {
                    "type": "text",
                    "text": "Why do the payments workers keep restarting? Check the cluster and the "
                    "instances behind it — and the recent CloudTrail events.",
                },
            ],
        }
    ]
    total = len(_enc(body)) + len(_enc(messages[0]))
    # Whole turns while they fit with room to spare, then one last turn sized to land exactly on size_bytes.
    while True:
        assistant, user = _turn(gen)
        grow = len(_enc(assistant)) + len(_enc(user)) + 2
        if total + grow > size_bytes - 4000:
            break
        messages += [assistant, user]
        total += grow
    assistant, user = _turn(gen)
    result = user["content"][0]  # type: ignore[index]
    result["content"] = ""
    user["content"][-1]["cache_control"] = {"type": "ephemeral"}  # type: ignore[index]
    room = size_bytes - total - len(_enc(assistant)) - len(_enc(user)) - 2
    output = ""
    while room > 0:
        extra = _resolve(gen, gen.block(gen.r.choice(["logs", "kubectl_pods", "security_groups"])), 0, [], [])
        if len(_enc(output + extra)) - 2 > room:
            break
        output += extra + "\n"
    pad = room - (len(_enc(output)) - 2)
    result["content"] = output + (_FILLER * (pad // len(_FILLER) + 1))[: max(pad, 0)]
    messages += [assistant, user]
    body["messages"] = messages
    return _enc(body)


def _report(size_bytes: int, seed: int = 0) -> None:
    """Prints what a corpus of this size holds: sizes, timings, planted counts, density per block type."""
    import bisect
    import time

    t0 = time.perf_counter()
    a = make_annotated(size_bytes, seed)
    t1 = time.perf_counter()
    body = make_body(size_bytes, seed)
    t2 = time.perf_counter()
    doc = json.loads(body)
    assert all(a.text[s.start : s.end] == s.value for s in a.planted + a.lookalikes)
    print(
        f"text: {len(a.text.encode())} bytes in {t1 - t0:.2f} s; body: {len(body)} bytes in "
        f"{t2 - t1:.2f} s, valid JSON, {len(doc['messages'])} messages, {len(doc['tools'])} tools"
    )
    occurrences = Counter(s.kind for s in a.planted)
    unique = Counter(kind for kind, _ in {(s.kind, s.value) for s in a.planted})
    print(f"planted: {len(a.planted)} occurrences, {sum(unique.values())} distinct values")
    for kind in KINDS:
        print(f"  {kind:<18} {occurrences[kind]:>6} {unique[kind]:>6}")
    print(f"look-alikes: {len(a.lookalikes)}")
    starts = [start for _, start, _ in a.blocks]
    size_of: Counter[str] = Counter()
    found_in: Counter[str] = Counter()
    for name, start, end in a.blocks:
        size_of[_Gen.BLOCKS[name][0]] += len(a.text[start:end].encode())
    for s in a.planted:
        found_in[_Gen.BLOCKS[a.blocks[bisect.bisect_right(starts, s.start) - 1][0]][0]] += 1
    print("by block group: share of bytes, identifiers, bytes per identifier")
    for group, n in size_of.most_common():
        per = f"{n / found_in[group]:.0f}" if found_in[group] else "-"
        print(f"  {group:<10} {n / len(a.text.encode()):6.1%} {found_in[group]:>6} {per:>8}")


if __name__ == "__main__":
    import sys

    for arg in sys.argv[1:] or list(SIZES):
        print(f"== {arg}")
        _report(SIZES.get(arg) or int(arg))
