"""Korean prose and chat as engineers write it: Slack threads, incident reports, runbooks,
questions, reviews. Context words: 계정, 액세스 키, 비밀 액세스 키, 버킷, 인스턴스, 보안 그룹, ..."""

# ruff: noqa: E501  (templates hold tool output lines as the tools print them)

from __future__ import annotations

from collections.abc import Callable

from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values
from tests.corpus.gen.world import World


def order_no(w: World) -> str:
    t = w.when()
    return w.d.look("num12", f"{t:%Y%m%d}{w.v.digits(4)}")


def stamp12(w: World) -> str:
    return w.d.look("num12", f"{w.when():%Y%m%d%H%M}")


def slack_key_leak(w: World) -> str:
    return f"""[오전 10:12] 김민수: 혹시 배포 서버에서 쓰는 키 아시는 분?
[오전 10:13] 박지은: 이거 쓰세요. 액세스 키 ID는 {w.akid()} 이고
[오전 10:13] 박지은: 비밀 액세스 키: {w.secret()}
[오전 10:14] 박지은: 리전은 {w.region}, 계정은 {w.acct} 입니다
[오전 10:15] 이도현: 헐 채널에 키 올리시면 안돼요 ㅠㅠ 바로 비활성화 부탁드립니다
[오전 10:16] 박지은: 앗 죄송합니다. 지금 교체할게요 (커밋 {w.short_sha()} 에서도 지웠어요)
"""


def incident(w: World) -> str:
    iid, sg, b = w.id("i", "ec2"), w.id("sg"), w.bucket()
    return f"""# 장애 보고서: 주문 API 응답 지연 ({w.when():%Y-%m-%d})

## 요약
- 영향 범위: 프로덕션 계정({w.acct})의 주문 API
- 원인: 인스턴스 {iid} 의 디스크 사용률 100% (볼륨 {w.id("vol")})
- 조치: 보안 그룹 {sg} 에서 임시로 헬스체크 포트를 열고 인스턴스를 교체함

## 타임라인
- 14:02 알람 발생 (요청 ID {w.uuid()})
- 14:10 {iid}에 SSM으로 접속, /var/log 정리
- 14:25 주문번호 {order_no(w)} 부터 정상 처리 확인
- 14:40 로그를 버킷 {b} 에 백업 (s3://{b}/incident/)

## 재발 방지
- 커밋 {w.sha()} 에서 logrotate 설정 추가
- 고객 문의 송장번호 {w.num12()} 건은 CS팀에 전달
"""


def question(w: World) -> str:
    return f"""안녕하세요, EKS 클러스터에서 S3 접근이 안 돼서 질문 드립니다.

IRSA 역할 ARN은 {w.iam_arn(f"role/{w.org}-app-irsa")} 로 설정했고
서비스 어카운트에도 어노테이션을 넣었습니다. 그런데 파드 로그에 이렇게 나옵니다:

    AccessDenied: User: {w.arn("sts", f"assumed-role/{w.org}-node-role/{w.id('i', 'ec2')}", region=None)} is not authorized to perform: s3:GetObject

버킷 이름은 {w.bucket()} 이고, 버킷 정책에서 계정 ID {w.acct} 만 허용하고 있어요.
파드 이름은 {w.d.look("pod", w.v.pod("api"))} 입니다. 노드 역할로 요청이 나가는 것 같은데 왜 그럴까요?
"""


def runbook(w: World) -> str:
    sfx = w.v.rds_suffix()
    db = w.d.plant("rds", f"{w.org}-{w.env}.cluster-{sfx}.{w.region}.rds.amazonaws.com")
    return f"""## 운영 가이드: 스테이징 DB 접속

1. 배스천 인스턴스 `{w.id("i", "ec2")}` 에 세션 매니저로 접속합니다.
2. DB 엔드포인트: {db}
3. VPC: {w.id("vpc")}, 서브넷: {w.id("subnet")}, {w.id("subnet")}
4. 비밀번호는 Secrets Manager 의 {w.arn("secretsmanager", f"secret:{w.env}/db-{w.v.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 6)}")} 에서 확인
5. KMS 키 ID: {w.kms_key()} (복호화 권한 필요)

※ 작업 기록은 {stamp12(w)} 형식의 파일명으로 남겨주세요.
"""


def review(w: World) -> str:
    return f"""리뷰 코멘트 (PR #{w.v.r.randint(100, 999)})

- `config/prod.yaml` 에 계정 번호 {w.acct} 가 하드코딩 되어 있네요. SSM 파라미터로 빼주세요.
- 버킷 {w.bucket()} 는 이미 삭제 예정이라 {w.bucket()} 로 바꿔야 합니다.
- 세션 토큰을 로그에 찍고 있어요: `aws_session_token={w.token()}` 이 줄 지워주세요.
- 나머지는 LGTM 👍 (빌드 {w.short_sha()}, 요청 ID {w.uuid()})
"""


def console_id(w: World) -> str:
    dashed = f"{w.acct[:4]}-{w.acct[4:8]}-{w.acct[8:]}"
    w.d.plant("acct", dashed)
    return f"""콘솔 오른쪽 위에 보이는 계정 ID가 {dashed} 인데요, CLI로 보면 {w.acct} 로 나옵니다. 같은 계정 맞죠?
그리고 신규 인스턴스 {w.id("i", "ec2")} 는 서울 리전({w.region})에 있고, AMI는 {w.id("ami")} 를 썼어요.
고객 전화번호 010-{w.v.digits(4)}-{w.v.digits(4)} 로 연락 왔던 주문번호 {order_no(w)} 건은 처리 완료입니다.
"""


def email(w: World) -> str:
    return f"""제목: [보안] 외부 감사용 읽기 전용 역할 생성 요청

안녕하세요 보안팀 {w.v.person()} 입니다.
감사 업체 계정 {w.d.plant("acct", w.v.account())} 에서 우리 계정 {w.acct} 으로 AssumeRole 할 수 있도록
역할 {w.iam_arn("role/external-audit-readonly")} 생성을 요청드립니다.
외부 ID는 {w.uuid()} 로 부탁드리고, 로그는 버킷 {w.bucket()} 에 90일 보관해 주세요.
감사 일정 관련 문의: 02-{w.v.digits(3)}-{w.v.digits(4)}

감사합니다.
"""


def wrapped_token(w: World) -> str:
    tok = w.v.session_token(w.region)
    width = 76
    wrapped = "\n".join(tok[i : i + width] for i in range(0, len(tok), width))
    w.d.plant("token", wrapped, tok)
    return f"""임시 자격 증명 공유드립니다 (1시간 유효)

액세스 키 ID: {w.akid("ASIA")}
비밀 액세스 키: {w.secret()}
세션 토큰:
{wrapped}

만료 시각: {w.ts()}
"""


def kakao(w: World) -> str:
    """Short chat lines: 엑세스키 (a common spelling), 시크릿키, no spaces before the value."""
    return f"""민재: 형 키좀요
준호: 엑세스키 {w.akid()}
준호: 시크릿키 {w.secret()}
준호: 어카운트는 {w.acct}이고 버킷은 {w.bucket()}임
민재: ㄳㄳ 근데 이거 프로드 키 아니죠?
준호: ㅇㅇ 스테이징꺼 (만료 {w.when():%m/%d})
"""


def pasted_identity(w: World) -> str:
    role = w.name("deploy")
    return f"""aws sts get-caller-identity 결과가 이렇게 나오는데 권한 문제인지 봐주실 수 있나요?

{{
    "UserId": "{w.uid("AROA")}:gha-{w.v.digits(10)}",
    "Account": "{w.acct}",
    "Arn": "{w.arn("sts", f"assumed-role/{role}/gha-{w.v.digits(10)}", region=None)}"
}}

이 역할로 {w.bucket()} 버킷에 업로드하려고 하면 AccessDenied 가 납니다.
GitHub Actions run 번호는 {w.d.look("num12", w.v.twelve_digits())} 이에요.
"""


def mixed_terms(w: World) -> str:
    other = w.d.plant("acct", w.v.account())
    return f"""[요청] prod 어카운트({w.acct})에서 데이터팀 어카운트({other})로 S3 read 권한 부탁드립니다.
- 대상 버킷: {w.bucket()}, {w.bucket()}
- 데이터팀 IAM 유저 ARN: {w.iam_arn(f"user/{w.v.person()}")}
- KMS key id: {w.kms_key()}
- 티켓: OPS-{w.v.digits(4)} / 요청 시각 {w.d.look("num12", f"{w.when():%Y%m%d%H%M}")}
"""


TEMPLATES: list[Callable[[World], str]] = [
    kakao,
    pasted_identity,
    mixed_terms,
    slack_key_leak,
    incident,
    question,
    runbook,
    review,
    console_id,
    email,
    wrapped_token,
]


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = []
    for rnd in (1, 2, 3):
        for t in TEMPLATES:
            if rnd == 3 and t in (wrapped_token, email, console_id, runbook):
                continue
            d = Doc(f"ko-{t.__name__.replace('_', '-')}-{rnd}")
            w = World(v, d, region=v.region("ap-northeast-2"))
            d.text = t(w)
            docs.append(d)
    return docs
