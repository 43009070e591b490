"""SDK code with hardcoded credentials and resources (Go, Python, Java, JavaScript, TypeScript,
Rust, C#, PHP, Ruby), and lock files whose hashes are look-alikes."""

# ruff: noqa: E501  (templates hold tool output lines as the tools print them)

from __future__ import annotations

import base64
import json

from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values
from tests.corpus.gen.world import World


def go_v1(v: Values, n: int) -> Doc:
    d = Doc(f"go-sdk-v1-static-credentials-{n}")
    w = World(v, d)
    d.text = f"""package storage

import (
	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/service/s3"
)

const bucket = "{w.bucket()}"

func newClient() *s3.S3 {{
	sess := session.Must(session.NewSession(&aws.Config{{
		Region:      aws.String("{w.region}"),
		Credentials: credentials.NewStaticCredentials("{w.akid()}", "{w.secret()}", ""),
	}}))
	return s3.New(sess)
}}
"""
    return d


def go_v2(v: Values, n: int) -> Doc:
    d = Doc(f"go-sdk-v2-static-credentials-{n}")
    w = World(v, d)
    d.text = f"""cfg, err := config.LoadDefaultConfig(ctx,
	config.WithRegion("{w.region}"),
	config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
		"{w.akid("ASIA")}",
		"{w.secret()}",
		"{w.token()}",
	)),
)
if err != nil {{
	log.Fatalf("load config: %v", err)
}}
client := sqs.NewFromConfig(cfg)
queueURL := "https://sqs.{w.region}.amazonaws.com/{w.acct}/{w.org}-orders.fifo"
"""
    return d


def python_boto3(v: Values, n: int) -> Doc:
    d = Doc(f"python-boto3-{n}")
    w = World(v, d)
    if n == 1:
        d.text = f"""import boto3

ACCESS_KEY = "{w.akid()}"
SECRET_KEY = "{w.secret()}"

s3 = boto3.client(
    "s3",
    region_name="{w.region}",
    aws_access_key_id=ACCESS_KEY,
    aws_secret_access_key=SECRET_KEY,
)
s3.upload_file("report.csv", "{w.bucket()}", "reports/report.csv")
"""
    else:
        d.text = f"""session = boto3.Session(aws_access_key_id='{w.akid("ASIA")}', aws_secret_access_key='{w.secret()}', aws_session_token='{w.token()}')
sts = session.client("sts")
role = sts.assume_role(RoleArn="{w.iam_arn(f"role/{w.org}-reader")}", RoleSessionName="etl", ExternalId="{w.uuid()}")
ddb = boto3.resource("dynamodb", region_name="{w.region}")
table = ddb.Table("{w.org}-orders")
kms = boto3.client("kms")
blob = kms.encrypt(KeyId="{w.kms_key()}", Plaintext=b"...")
"""
    return d


def java(v: Values, n: int) -> Doc:
    d = Doc(f"java-sdk-{n}")
    w = World(v, d)
    if n == 1:
        d.text = f"""import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;

public class S3Config {{
    private static final String BUCKET = "{w.bucket()}";

    public AmazonS3 s3() {{
        BasicAWSCredentials creds = new BasicAWSCredentials("{w.akid()}", "{w.secret()}");
        return AmazonS3ClientBuilder.standard()
                .withRegion("{w.region}")
                .withCredentials(new AWSStaticCredentialsProvider(creds))
                .build();
    }}
}}
"""
    else:
        d.text = f"""AwsSessionCredentials creds = AwsSessionCredentials.create(
        "{w.akid("ASIA")}",
        "{w.secret()}",
        "{w.token()}");
SqsClient sqs = SqsClient.builder()
        .region(Region.of("{w.region}"))
        .credentialsProvider(StaticCredentialsProvider.create(creds))
        .build();
String queueUrl = "https://sqs.{w.region}.amazonaws.com/{w.acct}/{w.org}-events";
AwsBasicCredentials basic = AwsBasicCredentials.create("{w.akid()}", "{w.secret()}");
"""
    return d


def javascript(v: Values, n: int) -> Doc:
    d = Doc(f"javascript-sdk-{n}")
    w = World(v, d)
    if n == 1:
        d.text = f"""const AWS = require('aws-sdk');

AWS.config.update({{
  accessKeyId: '{w.akid()}',
  secretAccessKey: '{w.secret()}',
  region: '{w.region}'
}});

const s3 = new AWS.S3();
module.exports.upload = (key, body) =>
  s3.putObject({{ Bucket: '{w.bucket()}', Key: key, Body: body }}).promise();
"""
    else:
        d.text = f"""import {{ S3Client, GetObjectCommand }} from "@aws-sdk/client-s3";
import {{ getSignedUrl }} from "@aws-sdk/s3-request-presigner";

const client = new S3Client({{
  region: "{w.region}",
  credentials: {{
    accessKeyId: "{w.akid()}",
    secretAccessKey: "{w.secret()}",
  }},
}});

export const BUCKET = "{w.bucket()}";
export const CDN = "https://{d.plant("cdn", v.cloudfront_domain())}";
export const KEY_ALIAS = "{d.plant("kms", f"alias/{w.org}-uploads")}";

export async function link(key: string) {{
  return getSignedUrl(client, new GetObjectCommand({{ Bucket: BUCKET, Key: key }}), {{ expiresIn: 3600 }});
}}
"""
    return d


def rust(v: Values, n: int) -> Doc:
    d = Doc(f"rust-sdk-{n}")
    w = World(v, d)
    d.text = f"""use aws_credential_types::Credentials;
use aws_sdk_s3::config::{{Builder, Region}};

fn client() -> aws_sdk_s3::Client {{
    let creds = Credentials::new(
        "{w.akid()}",
        "{w.secret()}",
        None,
        None,
        "hardcoded",
    );
    let conf = Builder::new()
        .region(Region::new("{w.region}"))
        .credentials_provider(creds)
        .behavior_version_latest()
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}}

const BUCKET: &str = "{w.bucket()}";
"""
    return d


def other_langs(v: Values, n: int) -> Doc:
    d = Doc(f"csharp-php-ruby-sdk-{n}")
    w = World(v, d)
    d.text = f"""// C#
var credentials = new BasicAWSCredentials("{w.akid()}", "{w.secret()}");
var s3 = new AmazonS3Client(credentials, RegionEndpoint.GetBySystemName("{w.region}"));

// PHP
$s3 = new Aws\\S3\\S3Client([
    'version' => 'latest',
    'region'  => '{w.region}',
    'credentials' => [
        'key'    => '{w.akid()}',
        'secret' => '{w.secret()}',
    ],
]);

# Ruby
Aws.config.update(
  region: '{w.region}',
  credentials: Aws::Credentials.new('{w.akid()}', '{w.secret()}')
)
s3 = Aws::S3::Resource.new
s3.bucket('{w.bucket()}').object('x.csv').upload_file('x.csv')
"""
    return d


def lockfiles(v: Values, n: int) -> Doc:
    d = Doc(f"lockfiles-hashes-{n}")
    w = World(v, d)
    pkgs = {}
    for name, ver in (("@aws-sdk/client-s3", "3.592.0"), ("uuid", "9.0.1"), ("fast-xml-parser", "4.2.5")):
        pkgs[f"node_modules/{name}"] = {
            "version": ver,
            "resolved": f"https://registry.npmjs.org/{name}/-/{name.split('/')[-1]}-{ver}.tgz",
            "integrity": d.look("integrity", "sha512-" + base64.b64encode(v.randbytes(64)).decode()),
        }
    lock = {"name": f"{w.org}-web", "lockfileVersion": 3, "requires": True, "packages": pkgs}
    req = "\n".join(
        f"{p}=={ver} \\\n    --hash=sha256:{d.look('sha256hex', v.sha256())}"
        for p, ver in (("boto3", "1.34.122"), ("botocore", "1.34.122"), ("s3transfer", "0.10.1"))
    )
    gosum = "\n".join(
        f"github.com/aws/aws-sdk-go-v2{m} {ver} h1:{d.look('b64', base64.b64encode(v.randbytes(32)).decode())}"
        for m, ver in (("", "v1.27.2"), ("/config", "v1.27.18"), ("/service/s3", "v1.55.1"))
    )
    d.text = f"# package-lock.json\n{json.dumps(lock, indent=2)}\n\n# requirements.txt\n{req}\n\n# go.sum\n{gosum}\n"
    # the account this repo deploys to, in the README next to them
    d.text += f"\n# deploy target: account {w.acct}, bucket s3://{w.bucket()}\n"
    return d


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = []
    for k in (1, 2):
        docs += [python_boto3(v, k), java(v, k), javascript(v, k), lockfiles(v, k)]
    docs += [go_v1(v, 1), go_v2(v, 1), rust(v, 1), other_langs(v, 1)]
    return docs
