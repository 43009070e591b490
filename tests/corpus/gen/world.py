"""One AWS estate per document: an account in a region and the resources in it, each value
registered in the document as it is drawn (planted, or look-alike), so generators only
describe what the tool prints."""

from __future__ import annotations

from datetime import datetime

from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import AZ_IDS, Values, iso


class World:
    def __init__(self, v: Values, d: Doc, region: str | None = None, account: str | None = None) -> None:
        self.v, self.d = v, d
        self.region = region or v.region()
        self.acct = d.plant("acct", account or v.account(), optional=True)
        self.org = v.org()
        self.env = v.choice(["prod", "stg", "dev"])

    # -- planted ---------------------------------------------------------------------------

    def id(self, prefix: str, kind: str | None = None, short: bool = False) -> str:
        return self.d.plant(kind or prefix, self.v.ec2(prefix, short))

    def arn(self, service: str, resource: str, region: str | None = "", account: str | None = None) -> str:
        reg = self.region if region == "" else (region or "")
        acct = self.acct if account is None else account
        return self.d.plant("arn", f"arn:aws:{service}:{reg}:{acct}:{resource}")

    def iam_arn(self, resource: str) -> str:
        return self.arn("iam", resource, region=None)

    def bucket(self, env: str | None = None) -> str:
        return self.d.plant("bucket", self.v.bucket(self.org, env or self.env))

    def akid(self, prefix: str = "AKIA") -> str:
        return self.d.plant("iam", self.v.access_key_id(self.acct, prefix))

    def uid(self, prefix: str) -> str:
        return self.d.plant("iam", self.v.unique_id(prefix))

    def secret(self) -> str:
        return self.d.plant("secret", self.v.secret_key())

    def token(self, old: bool = False) -> str:
        return self.d.plant("token", self.v.session_token(self.region, old=old))

    def kms_key(self) -> str:
        return self.d.plant("kms", self.v.kms_key_id())

    # -- neutral ---------------------------------------------------------------------------

    def az(self, letter: str | None = None) -> str:
        return self.region + (letter or self.v.choice(["a", "b", "c"]))

    def az_id(self) -> str:
        return f"{AZ_IDS[self.region]}-az{self.v.r.randint(1, 4)}"

    def when(self, start: datetime | None = None) -> datetime:
        return self.v.time(start)

    def ts(self) -> str:
        return iso(self.v.time())

    def name(self, *parts: str) -> str:
        return "-".join([self.org, *parts])

    # -- look-alikes -----------------------------------------------------------------------

    def sha(self) -> str:
        return self.d.look("gitsha", self.v.git_sha())

    def short_sha(self) -> str:
        return self.d.look("gitsha", self.v.git_sha()[:7])

    def uuid(self) -> str:
        return self.d.look("uuid", self.v.uuid())

    def digest(self) -> str:
        return self.d.look("digest", "sha256:" + self.v.sha256())

    def epoch(self, millis: bool = False, glued: bool = False) -> str:
        return self.d.look("epoch", self.v.epoch(millis), glued=glued)

    def num12(self) -> str:
        return self.d.look("num12", self.v.twelve_digits())
