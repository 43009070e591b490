"""Random, realistic AWS values: one `Values` per family, seeded, so the corpus is stable.

Shapes follow what AWS prints (docs/aws-identifiers.md in the shared reference): 17- and
8-hex EC2 IDs, base32 access key IDs that encode their account the way real ones do,
40-character secrets (base64 of 30 random bytes), session tokens whose binary header
encodes 'origin_ec' and the region, 12-digit accounts (leading zeros included). AWS's
documented EXAMPLE values are never used.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
import uuid
from datetime import UTC, datetime, timedelta

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits

REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-south-1",
]
AZ_IDS = {
    "us-east-1": "use1",
    "us-east-2": "use2",
    "us-west-2": "usw2",
    "eu-west-1": "euw1",
    "eu-central-1": "euc1",
    "ap-northeast-1": "apne1",
    "ap-northeast-2": "apne2",
    "ap-southeast-1": "apse1",
    "ap-south-1": "aps1",
}
ORGS = ["acme", "hanbit", "sakura", "nimbus", "kite", "orbit", "mirae", "hoshi", "tandem", "lumen", "daeun", "kumo"]
PURPOSES = [
    "logs",
    "assets",
    "backups",
    "invoices",
    "data-lake",
    "artifacts",
    "static",
    "exports",
    "uploads",
    "reports",
]
ENVS = ["prod", "stg", "dev", "qa"]
APPS = ["orders", "billing", "auth", "catalog", "search", "payments", "inventory", "notify", "checkout", "profile"]
PEOPLE = ["jkim", "yuki.tanaka", "minji.park", "s.sato", "dlee", "hiro", "choi.w", "aoki", "jpark", "nakamura.k"]


class Values:
    """Value factory for one family; every call draws from the family's own seeded stream."""

    def __init__(self, seed: str) -> None:
        self.r = random.Random(hashlib.sha256(seed.encode()).digest())
        self.seen: set[str] = set()

    # -- helpers ---------------------------------------------------------------------------

    def _unique(self, make: object) -> str:
        assert callable(make)
        for _ in range(100):
            v = make()
            if v not in self.seen:
                self.seen.add(v)
                return str(v)
        raise RuntimeError("could not draw a unique value")

    def choice(self, xs: list[str]) -> str:
        return self.r.choice(xs)

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def hexs(self, n: int) -> str:
        return self.chars("0123456789abcdef", n)

    def digits(self, n: int) -> str:
        return self.chars(string.digits, n)

    def randbytes(self, n: int) -> bytes:
        return bytes(self.r.getrandbits(8) for _ in range(n))

    def region(self, prefer: str | None = None) -> str:
        if prefer and self.r.random() < 0.7:
            return prefer
        return self.choice(REGIONS)

    # -- identities ------------------------------------------------------------------------

    def account(self) -> str:
        """12 digits; about one in eight starts with 0 like real old accounts do."""

        def make() -> str:
            first = "0" if self.r.random() < 0.12 else self.chars("123456789", 1)
            return first + self.digits(11)

        return self._unique(make)

    def access_key_id(self, account: str, prefix: str = "AKIA") -> str:
        """A key ID whose base32 body encodes `account` (bits 7..46 of the first 6 bytes)."""

        def make() -> str:
            z = (1 << 47) | (int(account) << 7) | self.r.getrandbits(7)
            raw = z.to_bytes(6, "big") + self.randbytes(4)
            return prefix + base64.b32encode(raw).decode()[:16]

        return self._unique(make)

    def unique_id(self, prefix: str) -> str:
        """AIDA/AROA/AGPA/ANPA... + 17 base32-ish characters, as IAM prints them."""
        return self._unique(lambda: prefix + self.chars(B32, 17))

    def secret_key(self) -> str:
        """40 characters: base64 of 30 random bytes; re-drawn until it holds a + or / and a digit."""

        def make() -> str:
            while True:
                s = base64.b64encode(self.randbytes(30)).decode()
                if any(c in "+/" for c in s) and any(c.isdigit() for c in s):
                    return s

        return self._unique(make)

    def session_token(self, region: str = "us-east-1", old: bool = False) -> str:
        """An STS session token: the binary record real ones have (origin_ec, region, signature), base64."""

        def make() -> str:
            if old:
                head = b"\x17\n\x06er/aws\x10" + self.randbytes(3) + b"\x1a\x0c"
                body = head + self.randbytes(self.r.randint(280, 330))
            else:
                reg = region.encode()
                head = b"!\n\torigin_ec\x10" + self.randbytes(1) + b"\xff" * 7 + b"\x01\x1a" + bytes([len(reg)]) + reg
                head += b'"G0E\x02!\x00' + self.randbytes(32) + b"\x02 " + self.randbytes(32) + b"*"
                body = head + self.randbytes(self.r.randint(560, 760))
            return base64.b64encode(body).decode()

        return self._unique(make)

    # -- EC2 family --------------------------------------------------------------------------

    def ec2(self, prefix: str, short: bool = False) -> str:
        if short:
            return self._unique(lambda: f"{prefix}-{self.hexs(8)}")
        return self._unique(lambda: f"{prefix}-{'0' if self.r.random() < 0.85 else self.hexs(1)}{self.hexs(16)}")

    # -- names -----------------------------------------------------------------------------

    def org(self) -> str:
        return self.choice(ORGS)

    def bucket(self, org: str | None = None, env: str | None = None) -> str:
        o = org or self.org()
        e = env or self.choice(ENVS)

        def make() -> str:
            shape = self.r.randint(0, 3)
            p = self.choice(PURPOSES)
            if shape == 0:
                return f"{o}-{e}-{p}-{self.hexs(6)}"
            if shape == 1:
                return f"{o}-{p}-{e}-{self.chars(LOWER_ALNUM, 5)}"
            if shape == 2:
                return f"{o}.{e}.{p}.{self.chars(string.ascii_lowercase, 4)}"
            return f"{o}-{self.choice(APPS)}-{p}-{self.digits(4)}"

        return self._unique(make)

    def app(self) -> str:
        return self.choice(APPS)

    def person(self) -> str:
        return self.choice(PEOPLE)

    # -- KMS -------------------------------------------------------------------------------

    def kms_key_id(self) -> str:
        return self._unique(lambda: str(uuid.UUID(bytes=self.randbytes(16), version=4)))

    def mrk_key_id(self) -> str:
        return self._unique(lambda: "mrk-" + self.hexs(32))

    # -- hosts -----------------------------------------------------------------------------

    def rds_suffix(self) -> str:
        return self._unique(lambda: self.chars(string.ascii_lowercase, 1) + self.chars(LOWER_ALNUM, 11))

    def alb_host(self, name: str, region: str, internal: bool = False) -> str:
        pre = "internal-" if internal else ""
        return self._unique(
            lambda: f"{pre}{name}-{self.chars('123456789', 1)}{self.digits(9)}.{region}.elb.amazonaws.com"
        )

    def nlb_host(self, name: str, region: str) -> str:
        return self._unique(lambda: f"{name}-{self.hexs(16)}.elb.{region}.amazonaws.com")

    def eks_host(self, region: str) -> str:
        cell = self.choice(["gr7", "yl4", "sk1"])
        return self._unique(lambda: f"{self.chars('0123456789ABCDEF', 32)}.{cell}.{region}.eks.amazonaws.com")

    def cloudfront_domain(self) -> str:
        return self._unique(lambda: "d" + self.chars(LOWER_ALNUM, 13) + ".cloudfront.net")

    def distribution_id(self) -> str:
        return self._unique(lambda: "E" + self.chars(UPPER_ALNUM, 13))

    def zone_id(self) -> str:
        return self._unique(lambda: "Z" + self.chars(UPPER_ALNUM, self.r.choice([13, 20, 21])))

    def lambda_url_id(self) -> str:
        return self._unique(lambda: self.chars(LOWER_ALNUM, 32))

    def apigw_id(self) -> str:
        return self._unique(lambda: self.chars(LOWER_ALNUM, 10))

    def org_id(self) -> str:
        return self._unique(lambda: "o-" + self.chars(LOWER_ALNUM, 10))

    def ou_id(self, root: str) -> str:
        return self._unique(lambda: f"ou-{root}-{self.chars(LOWER_ALNUM, 8)}")

    def root_suffix(self) -> str:
        return self.chars(LOWER_ALNUM, 4)

    def sso_start(self) -> str:
        return self._unique(lambda: "d-" + self.chars("0123456789", 4) + self.hexs(6))

    def canonical_user_id(self) -> str:
        return self._unique(lambda: self.hexs(64))

    def public_ip(self) -> str:
        octets = [self.r.randint(1, 254) for _ in range(3)]
        return f"{self.r.choice([3, 13, 18, 34, 35, 52, 54])}." + ".".join(map(str, octets))

    def private_ip(self, base: str = "10.0") -> str:
        return f"{base}.{self.r.randint(0, 15)}.{self.r.randint(4, 250)}"

    @staticmethod
    def public_dns(ip: str, region: str) -> str:
        dashed = ip.replace(".", "-")
        if region == "us-east-1":
            return f"ec2-{dashed}.compute-1.amazonaws.com"
        return f"ec2-{dashed}.{region}.compute.amazonaws.com"

    # -- look-alikes -------------------------------------------------------------------------

    def git_sha(self) -> str:
        return self._unique(lambda: self.hexs(40))

    def uuid(self) -> str:
        return self._unique(lambda: str(uuid.UUID(bytes=self.randbytes(16), version=4)))

    def sha256(self) -> str:
        return self._unique(lambda: self.hexs(64))

    def epoch(self, millis: bool = False) -> str:
        t = self.r.randint(1_690_000_000, 1_760_000_000)
        return str(t * 1000 + self.r.randint(0, 999)) if millis else str(t)

    def twelve_digits(self) -> str:
        """An order, invoice or phone number: 12 digits that are no account."""
        return self._unique(lambda: self.chars("123456789", 1) + self.digits(11))

    def b64(self, nbytes: int) -> str:
        return self._unique(lambda: base64.b64encode(self.randbytes(nbytes)).decode())

    def b64url(self, nbytes: int) -> str:
        return self._unique(lambda: base64.urlsafe_b64encode(self.randbytes(nbytes)).decode().rstrip("="))

    def pod(self, app: str) -> str:
        return self._unique(
            lambda: f"{app}-{self.hexs(self.r.choice([9, 10]))}-{self.chars('bcdfghjklmnpqrstvwxz2456789', 5)}"
        )

    def time(self, start: datetime | None = None, spread_days: int = 400) -> datetime:
        base = start or datetime(2024, 3, 1, tzinfo=UTC)
        return base + timedelta(seconds=self.r.randint(0, spread_days * 86400))


def iso(t: datetime, millis: bool = False) -> str:
    """'2024-06-11T09:12:33+00:00' (aws CLI v2) or '2024-06-11T09:12:33.000Z' (service-rendered)."""
    if millis:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    return t.isoformat()


def zulu(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
