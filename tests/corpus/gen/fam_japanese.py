"""Japanese prose and chat: Slack, 障害報告, 手順書, 質問, レビュー, mail. Context words:
アカウント, アクセスキー, シークレットアクセスキー, バケット, インスタンス, ... Some values typed
with the IME in full-width (アカウントＩＤ：１２３４…), as Japanese text often has them."""

# ruff: noqa: E501  (templates hold tool output lines as the tools print them)

from __future__ import annotations

from collections.abc import Callable

from tests.corpus.gen.awscli_fmt import render
from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values
from tests.corpus.gen.world import World

FULL = {c: chr(ord(c) + 0xFEE0) for c in "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"}
FULL["-"] = "－"


def full(s: str) -> str:
    return "".join(FULL.get(c, c) for c in s)


def order_no(w: World) -> str:
    return w.d.look("num12", f"{w.when():%y%m%d}{w.v.digits(6)}")


def slack(w: World) -> str:
    return f"""田中 10:02
検証環境のアクセスキー共有します。
アクセスキーID: {w.akid()}
シークレットアクセスキー: {w.secret()}
リージョンは{w.region}です。

佐藤 10:05
ありがとうございます！アカウントIDは{w.acct}で合ってますか？

田中 10:06
はい、{w.acct}です。バケットは{w.bucket()}を使ってください🙏
"""


def incident(w: World) -> str:
    iid = w.id("i", "ec2")
    return f"""【障害報告】決済APIのタイムアウト（{w.when():%Y/%m/%d}）

■ 影響
本番アカウント（{w.acct}）の決済APIで約12分間タイムアウトが発生しました。

■ 原因
インスタンス{iid}のメモリ不足。セキュリティグループ{w.id("sg")}の設定変更も影響しています。

■ 対応
・{iid}を再起動し、ALB {w.d.plant("elb", w.v.alb_host(f"{w.org}-pay", w.region))} から一時的に切り離し
・ログはs3://{w.bucket()}/incident/に保存
・注文番号{order_no(w)}以降は正常に処理されています

■ 再発防止
コミット{w.sha()}でメモリ上限を設定済み。リクエストID: {w.uuid()}
"""


def question(w: World) -> str:
    return f"""Lambdaから別アカウントのS3バケットにアクセスできません。

・Lambdaの実行ロール: {w.iam_arn(f"role/{w.org}-lambda-exec")}
・相手側アカウント: {w.d.plant("acct", w.v.account())}
・バケット名: {w.bucket()}
・KMSキー: {w.arn("kms", f"key/{w.kms_key()}")}

エラーは「AccessDenied」のみです。バケットポリシーでPrincipalにロールARNを入れているのですが、何が足りないでしょうか？
（問い合わせ番号: {w.num12()}）
"""


def fullwidth(w: World) -> str:
    acct_fw = w.d.plant("acct", full(w.acct), w.acct)
    iid = w.v.ec2("i")
    iid_fw = w.d.plant("ec2", full(iid), iid)
    ord_fw = w.d.look("num12", full(w.v.twelve_digits()))
    return f"""お疲れ様です。申請書の記載内容です。

アカウントＩＤ：{acct_fw}
対象インスタンス：{iid_fw}
用途：月次バッチ
注文番号：{ord_fw}

※ 全角で入力してしまいましたが、{w.acct}のことです。
"""


def runbook(w: World) -> str:
    sfx = w.v.rds_suffix()
    return f"""## 手順書：踏み台経由でのDB接続

1. 踏み台インスタンス `{w.id("i", "ec2")}` にSSMセッションマネージャーで接続する
2. 接続先エンドポイント：{w.d.plant("rds", f"{w.org}-{w.env}.cluster-{sfx}.{w.region}.rds.amazonaws.com")}
3. VPC {w.id("vpc")} ／ サブネット {w.id("subnet")}
4. パスワードはパラメータストア `{w.arn("ssm", f"parameter/{w.env}/db/password")}` から取得
5. 作業後はセッションを終了し、作業記録を残す（ファイル名例：{w.d.look("num12", f"{w.when():%Y%m%d%H%M}")}_作業記録.md）
"""


def review(w: World) -> str:
    return f"""レビューコメントです。

- `terraform.tfvars` にアカウント番号 {w.acct} が直書きされています。変数化をお願いします。
- `aws_secret_access_key = {w.secret()}` がコミットされています！すぐにローテーションしてください。
- アクセスキー {w.akid()} は無効化済みでしょうか？
- 他は問題なさそうです（ビルド {w.short_sha()}）。
"""


def mail(w: World) -> str:
    return f"""件名：【依頼】クロスアカウントロールの作成について

各位

お世話になっております。インフラチームの{w.v.person()}です。
監査用アカウント（{w.d.plant("acct", w.v.account())}）から弊社本番アカウント（{w.acct}）へ
AssumeRoleするためのロール {w.iam_arn("role/audit-readonly")} の作成をお願いします。
外部IDは {w.uuid()} です。CloudTrailのログはバケット{w.bucket()}に保存されています。

連絡先：03-{w.v.digits(4)}-{w.v.digits(4)}
よろしくお願いいたします。
"""


def wrapped(w: World) -> str:
    sk = w.v.secret_key()
    cut = w.v.r.randint(14, 26)
    split = w.d.plant("secret", sk[:cut] + "\n" + sk[cut:], sk)
    return f"""チャットに貼ると改行されてしまうので分けて送ります。
アクセスキーID：{w.akid()}
シークレットアクセスキー：
{split}
（2行をつなげてください）
"""


def backlog_ticket(w: World) -> str:
    """Ticket fields with the words people use: AWSアカウント番号, シークレットキー, 全角コロン."""
    return f"""【課題】本番環境のS3バケットへの書き込み権限付与

AWSアカウント番号：{w.acct}
対象バケット：{w.bucket()}
作業用IAMユーザーのアクセスキー：{w.akid()}
シークレットキー：{w.secret()}
期限：{w.when():%Y/%m/%d}
関連チケット：{w.d.look("num12", w.v.twelve_digits())}
"""


def pasted_table(w: World) -> str:
    rows = [[w.id("i", "ec2"), "running", w.v.choice(["t3.medium", "m6i.large"])] for _ in range(2)]
    table = render(
        "DescribeInstances", rows, "table"
    )  # --query 'Reservations[].Instances[].[InstanceId,State.Name,InstanceType]'
    return f"""以下のインスタンスが停止できません。権限の問題でしょうか？

$ aws ec2 describe-instances --filters Name=tag:env,Values=stg --query 'Reservations[].Instances[].[InstanceId,State.Name,InstanceType]' --output table
{table}
実行ユーザーは {w.iam_arn(f"user/{w.v.person()}")} です。アカウントは{w.acct}（検証環境）です。
"""


TEMPLATES: list[Callable[[World], str]] = [
    backlog_ticket,
    pasted_table,
    slack,
    incident,
    question,
    fullwidth,
    runbook,
    review,
    mail,
    wrapped,
]


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = []
    for rnd in (1, 2, 3):
        for t in TEMPLATES:
            if rnd == 3 and t in (runbook, mail, wrapped, question):
                continue
            d = Doc(f"ja-{t.__name__.replace('_', '-')}-{rnd}")
            w = World(v, d, region=v.region("ap-northeast-1"))
            d.text = t(w)
            docs.append(d)
    return docs
