"""CloudFormation templates and deploy output, CDK output and context, Terraform plan, apply,
show, state show, output (and -json), tfvars, backends and state files."""

# ruff: noqa: E501  (templates hold tool output lines as the tools print them)

from __future__ import annotations

import json
from typing import Any

from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values, zulu
from tests.corpus.gen.world import World

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def cfn_template_yaml(v: Values, n: int) -> Doc:
    d = Doc(f"cloudformation-template-yaml-{n}")
    w = World(v, d)
    vpc, s1, s2 = w.id("vpc"), w.id("subnet"), w.id("subnet")
    ami1, ami2 = w.id("ami"), w.id("ami")
    other = d.plant("acct", v.account())
    b = w.bucket()
    kid = w.kms_key()
    d.text = f"""AWSTemplateFormatVersion: '2010-09-09'
Description: {w.org} {v.app()} service ({w.env})

Parameters:
  VpcId:
    Type: AWS::EC2::VPC::Id
    Default: {vpc}
  SubnetIds:
    Type: List<AWS::EC2::Subnet::Id>
    Default: {s1},{s2}
  ImageTag:
    Type: String
    Default: {w.short_sha()}

Mappings:
  RegionMap:
    ap-northeast-2:
      AMI: {ami1}
    ap-northeast-1:
      AMI: {ami2}

Resources:
  AssetsBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: {b}
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: aws:kms
              KMSMasterKeyID: {w.arn("kms", f"key/{kid}")}

  AuditRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              AWS: {w.arn("iam", "root", region=None, account=other)}
            Action: sts:AssumeRole
            Condition:
              StringEquals:
                sts:ExternalId: {w.uuid()}
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/SecurityAudit

  Queue:
    Type: AWS::SQS::Queue
    Properties:
      KmsMasterKeyId: alias/aws/sqs
      RedrivePolicy:
        deadLetterTargetArn: {w.arn("sqs", f"{w.org}-dlq")}
        maxReceiveCount: 5

  AppSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: app
      VpcId: !Ref VpcId
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          SourceSecurityGroupId: {w.id("sg")}
          SourceSecurityGroupOwnerId: '{w.acct}'

Outputs:
  BucketName:
    Value: !Ref AssetsBucket
    Export:
      Name: !Sub '${{AWS::StackName}}-Bucket'
"""
    return d


def cfn_template_json(v: Values, n: int) -> Doc:
    d = Doc(f"cloudformation-template-json-{n}")
    w = World(v, d)
    fn = f"{w.org}-{v.app()}"
    b = w.bucket()
    tmpl: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": fn,
                    "Runtime": "python3.12",
                    "Handler": "app.handler",
                    "Role": w.iam_arn(f"role/{fn}-exec"),
                    "Code": {"S3Bucket": b, "S3Key": f"lambda/{fn}/{w.sha()}.zip"},
                    "VpcConfig": {"SubnetIds": [w.id("subnet"), w.id("subnet")], "SecurityGroupIds": [w.id("sg")]},
                    "Environment": {
                        "Variables": {"TOPIC_ARN": w.arn("sns", f"{w.org}-alerts"), "KMS_KEY_ID": w.kms_key()}
                    },
                    "Layers": [w.arn("lambda", f"layer:{w.org}-common:{v.r.randint(3, 40)}")],
                },
            },
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmActions": [w.arn("sns", f"{w.org}-pager")],
                    "MetricName": "Errors",
                    "Namespace": "AWS/Lambda",
                    "Dimensions": [{"Name": "FunctionName", "Value": fn}],
                    "Statistic": "Sum",
                    "Period": 300,
                    "EvaluationPeriods": 1,
                    "Threshold": 1,
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                },
            },
        },
    }
    d.text = json.dumps(tmpl, indent=2) + "\n"
    return d


def cfn_deploy(v: Values, n: int) -> Doc:
    d = Doc(f"cloudformation-package-deploy-output-{n}")
    w = World(v, d)
    b = w.bucket()
    name = f"{w.org}-{v.app()}-{w.env}"
    md5a, md5b = d.look("md5", v.hexs(32)), d.look("md5", v.hexs(32))
    d.text = (
        f"$ aws cloudformation package --template-file template.yaml --s3-bucket {b} --output-template-file packaged.yaml\n"
        f"Uploading to {md5a}  {v.r.randint(10000, 900000)} / {v.r.randint(10000, 900000)}.0  (100.00%)\n"
        f"Uploading to {md5b}.template  4121 / 4121.0  (100.00%)\n"
        "\nSuccessfully packaged artifacts and wrote output template to file packaged.yaml.\n"
        "Execute the following command to deploy the packaged template\n"
        f"aws cloudformation deploy --template-file /home/runner/work/{w.org}/packaged.yaml --stack-name <YOUR STACK NAME>\n"
        f"$ aws cloudformation deploy --template-file packaged.yaml --stack-name {name} --capabilities CAPABILITY_IAM "
        f"--role-arn {w.iam_arn(f'role/{w.org}-cfn-deployer')}\n\n"
        "Waiting for changeset to be created..\n"
        "Waiting for stack create/update to complete\n"
        f"Successfully created/updated stack - {name}\n"
    )
    return d


def cfn_failed_events(v: Values, n: int) -> Doc:
    d = Doc(f"cloudformation-stack-events-failed-{n}")
    w = World(v, d)
    name = f"{w.org}-{v.app()}-{w.env}"
    b = w.bucket()
    req = w.uuid()
    d.text = (
        f"$ aws cloudformation describe-stack-events --stack-name {name} "
        "--query 'StackEvents[?ResourceStatus==`CREATE_FAILED`].[LogicalResourceId,ResourceStatusReason]' --output text\n"
        f"AssetsBucket\t{b} already exists\n"
        f"WebInstance\tThe image id '[{w.id('ami')}]' does not exist (Service: Ec2, Status Code: 400, Request ID: {req})\n"
        f"ServiceRole\tUser: {w.arn('sts', f'assumed-role/{w.org}-cfn-deployer/AWSCloudFormation', region=None)} is not authorized "
        f"to perform: iam:PassRole on resource: {w.iam_arn(f'role/{name}-task')}\n"
    )
    return d


def cdk_deploy(v: Values, n: int) -> Doc:
    d = Doc(f"cdk-deploy-output-{n}")
    w = World(v, d)
    stack = f"{w.org.capitalize()}{v.app().capitalize()}Stack"
    h1 = d.look("sha256hex", v.sha256())
    envs = f"{w.acct}-{w.region}"
    api = d.plant("apigw", f"{v.apigw_id()}.execute-api.{w.region}.amazonaws.com")
    bucket = d.plant(
        "bucket", f"{stack.lower()}-assetsbucket{v.hexs(8)}-{v.chars('abcdefghijklmnopqrstuvwxyz0123456789', 12)}"
    )
    dist = d.plant("cdn", v.cloudfront_domain())
    queue = f"https://sqs.{w.region}.amazonaws.com/{w.acct}/{stack}-Queue{v.hexs(8).upper()}-{v.chars(UPPER, 12)}"
    sid = w.arn("cloudformation", f"stack/{stack}/{v.uuid()}")
    d.text = f"""
✨  Synthesis time: {v.r.randint(3, 30)}.{v.r.randint(10, 99)}s

{stack}: start: Building {h1}:{envs}
{stack}: success: Built {h1}:{envs}
{stack}: start: Publishing {h1}:{envs}
{stack}: success: Published {h1}:{envs}
{stack}: deploying... [1/1]
{stack}: creating CloudFormation changeset...

 ✅  {stack}

✨  Deployment time: {v.r.randint(40, 400)}.{v.r.randint(1, 9)}s

Outputs:
{stack}.ApiEndpoint{v.hexs(8).upper()} = https://{api}/prod/
{stack}.AssetsBucketName = {bucket}
{stack}.DistributionDomain = {dist}
{stack}.QueueUrl = {queue}
{stack}.TableArn = {w.arn("dynamodb", f"table/{stack}-Table{v.hexs(8).upper()}-{v.chars(UPPER, 13)}")}
{stack}.UserPoolId = {w.region}_{v.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 9)}
Stack ARN:
{sid}

✨  Total time: {v.r.randint(50, 420)}.{v.r.randint(1, 9)}s

"""
    return d


def cdk_bootstrap(v: Values, n: int) -> Doc:
    d = Doc(f"cdk-bootstrap-output-{n}")
    w = World(v, d)
    trust = d.plant("acct", v.account())
    d.text = f""" ⏳  Bootstrapping environment aws://{w.acct}/{w.region}...
Trusted accounts for deployment: {trust}
Trusted accounts for lookup: (none)
Using default execution policy of 'arn:aws:iam::aws:policy/AdministratorAccess'. Pass '--cloudformation-execution-policies' to customize.
CDKToolkit: creating CloudFormation changeset...
CDKToolkit | 0/12 | 9:41:07 AM | REVIEW_IN_PROGRESS   | AWS::CloudFormation::Stack | CDKToolkit User Initiated
CDKToolkit | 1/12 | 9:41:15 AM | CREATE_COMPLETE      | AWS::S3::Bucket         | StagingBucket (cdk-hnb659fds-assets-{w.acct}-{w.region})
CDKToolkit | 2/12 | 9:41:16 AM | CREATE_COMPLETE      | AWS::IAM::Role          | DeploymentActionRole (cdk-hnb659fds-deploy-role-{w.acct}-{w.region})
CDKToolkit | 3/12 | 9:41:16 AM | CREATE_COMPLETE      | AWS::ECR::Repository    | ContainerAssetsRepository (cdk-hnb659fds-container-assets-{w.acct}-{w.region})
 ✅  Environment aws://{w.acct}/{w.region} bootstrapped.
"""
    return d


def cdk_context(v: Values, n: int) -> Doc:
    d = Doc(f"cdk-context-json-{n}")
    w = World(v, d)
    vpc = w.id("vpc")
    zone = d.plant("zone", v.zone_id())
    ctx = {
        f"vpc-provider:account={w.acct}:filter.vpc-id={vpc}:region={w.region}:returnAsymmetricSubnets=true": {
            "vpcId": vpc,
            "vpcCidrBlock": "10.20.0.0/16",
            "ownerAccountId": w.acct,
            "availabilityZones": [],
            "subnetGroups": [
                {
                    "name": "Private",
                    "type": "Private",
                    "subnets": [
                        {
                            "subnetId": w.id("subnet"),
                            "cidr": f"10.20.{k * 32}.0/19",
                            "availabilityZone": w.az(x),
                            "routeTableId": w.id("rtb"),
                        }
                        for k, x in enumerate("ab")
                    ],
                }
            ],
        },
        f"availability-zones:account={w.acct}:region={w.region}": [w.az(x) for x in "abcd"],
        f"hosted-zone:account={w.acct}:domainName={w.org}.example:region={w.region}": {
            "Id": f"/hostedzone/{zone}",
            "Name": f"{w.org}.example.",
        },
        "acknowledged-issue-numbers": [32775],
    }
    d.text = json.dumps(ctx, indent=2) + "\n"
    return d


def tf_plan(v: Values, n: int) -> Doc:
    d = Doc(f"terraform-plan-{n}")
    w = World(v, d)
    ami, subnet, sg = w.id("ami"), w.id("subnet"), w.id("sg")
    b = w.bucket()
    kid = w.kms_key()
    role = w.iam_arn(f"role/{w.org}-{w.env}-app")
    d.text = f"""aws_s3_bucket.assets: Refreshing state... [id={b}]
aws_iam_role.app: Refreshing state... [id={w.org}-{w.env}-app]
data.aws_caller_identity.current: Reading...
data.aws_caller_identity.current: Read complete after 0s [id={w.acct}]

Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  + create
  ~ update in-place

Terraform will perform the following actions:

  # aws_instance.web will be created
  + resource "aws_instance" "web" {{
      + ami                                  = "{ami}"
      + arn                                  = (known after apply)
      + associate_public_ip_address          = (known after apply)
      + iam_instance_profile                 = "{w.org}-{w.env}-app"
      + id                                   = (known after apply)
      + instance_type                        = "t3.small"
      + subnet_id                            = "{subnet}"
      + tags                                 = {{
          + "Name"    = "{w.org}-web"
          + "Release" = "{w.short_sha()}"
        }}
      + vpc_security_group_ids               = [
          + "{sg}",
        ]
    }}

  # aws_s3_bucket_server_side_encryption_configuration.assets will be updated in-place
  ~ resource "aws_s3_bucket_server_side_encryption_configuration" "assets" {{
        bucket                = "{b}"
        id                    = "{b}"

      ~ rule {{
          ~ apply_server_side_encryption_by_default {{
              ~ kms_master_key_id = "alias/aws/s3" -> "{w.arn("kms", f"key/{kid}")}"
                # (1 unchanged attribute hidden)
            }}
        }}
    }}

  # aws_iam_role_policy_attachment.app will be created
  + resource "aws_iam_role_policy_attachment" "app" {{
      + id         = (known after apply)
      + policy_arn = "{w.iam_arn(f"policy/{w.org}-read-assets")}"
      + role       = "{w.org}-{w.env}-app"
    }}

Plan: 2 to add, 1 to change, 0 to destroy.

Changes to Outputs:
  + instance_id = (known after apply)
  ~ role_arn    = "{w.iam_arn(f"role/{w.org}-{w.env}-app-old")}" -> "{role}"
"""
    return d


def tf_apply(v: Values, n: int) -> Doc:
    d = Doc(f"terraform-apply-{n}")
    w = World(v, d)
    iid, b, vpc = w.id("i", "ec2"), w.bucket(), w.id("vpc")
    nat, eip = w.id("nat"), w.id("eipalloc", "eip")
    sfx = v.rds_suffix()
    db = d.plant("rds", f"{w.org}-{w.env}.{sfx}.{w.region}.rds.amazonaws.com")
    d.text = f"""aws_eip.nat: Creating...
aws_eip.nat: Creation complete after 1s [id={eip}]
aws_nat_gateway.main: Creating...
aws_nat_gateway.main: Still creating... [10s elapsed]
aws_nat_gateway.main: Still creating... [1m40s elapsed]
aws_nat_gateway.main: Creation complete after 1m45s [id={nat}]
aws_instance.web: Creating...
aws_instance.web: Still creating... [10s elapsed]
aws_instance.web: Creation complete after 13s [id={iid}]
aws_s3_bucket_versioning.assets: Modifying... [id={b}]
aws_s3_bucket_versioning.assets: Modifications complete after 2s [id={b}]
aws_db_instance.main: Modifying... [id=db-{v.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 26)}]
aws_db_instance.main: Modifications complete after 38s [id=db-{v.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 26)}]

Apply complete! Resources: 3 added, 2 changed, 0 destroyed.

Outputs:

account_id = "{w.acct}"
bucket_name = "{b}"
db_endpoint = "{db}:5432"
instance_id = "{iid}"
nat_gateway_id = "{nat}"
vpc_id = "{vpc}"
"""
    return d


def tf_state_show(v: Values, n: int) -> Doc:
    d = Doc(f"terraform-state-show-{n}")
    w = World(v, d)
    iid = w.id("i", "ec2")
    ip = v.public_ip()
    priv = v.private_ip()
    host = d.plant("host", Values.public_dns(ip, w.region))
    d.text = f"""# aws_instance.web:
resource "aws_instance" "web" {{
    ami                                  = "{w.id("ami")}"
    arn                                  = "{w.arn("ec2", f"instance/{iid}")}"
    associate_public_ip_address          = true
    availability_zone                    = "{w.az()}"
    disable_api_stop                     = false
    disable_api_termination              = false
    ebs_optimized                        = false
    get_password_data                    = false
    hibernation                          = false
    iam_instance_profile                 = "{w.org}-web"
    id                                   = "{iid}"
    instance_initiated_shutdown_behavior = "stop"
    instance_state                       = "running"
    instance_type                        = "t3.small"
    ipv6_address_count                   = 0
    ipv6_addresses                       = []
    key_name                             = "{w.org}-ops"
    monitoring                           = false
    owner_id                             = "{w.acct}"
    placement_partition_number           = 0
    primary_network_interface_id         = "{w.id("eni")}"
    private_dns                          = "ip-{priv.replace(".", "-")}.{w.region}.compute.internal"
    private_ip                           = "{priv}"
    public_dns                           = "{host}"
    public_ip                            = "{ip}"
    secondary_private_ips                = []
    security_groups                      = []
    source_dest_check                    = true
    subnet_id                            = "{w.id("subnet")}"
    tags                                 = {{
        "Name" = "{w.org}-web"
    }}
    tags_all                             = {{
        "Name"       = "{w.org}-web"
        "git_commit" = "{w.sha()}"
    }}
    tenancy                              = "default"
    user_data_replace_on_change          = false
    vpc_security_group_ids               = [
        "{w.id("sg")}",
    ]

    root_block_device {{
        delete_on_termination = true
        device_name           = "/dev/xvda"
        encrypted             = true
        iops                  = 3000
        kms_key_id            = "{w.arn("kms", f"key/{w.kms_key()}")}"
        throughput            = 125
        volume_id             = "{w.id("vol")}"
        volume_size           = 20
        volume_type           = "gp3"
    }}
}}
"""
    return d


def tf_output(v: Values, n: int, as_json: bool) -> Doc:
    d = Doc(f"terraform-output-{'json' if as_json else 'text'}-{n}")
    w = World(v, d)
    kid = w.kms_key()
    vals: dict[str, tuple[str, Any, bool]] = {
        "account_id": ("string", w.acct, False),
        "assets_bucket": ("string", w.bucket(), False),
        "cluster_endpoint": ("string", f"https://{d.plant('eks', v.eks_host(w.region))}", False),
        "kms_key_id": ("string", kid, False),
        "private_subnet_ids": ("list", [w.id("subnet") for _ in range(3)], False),
        "ecr_repository_url": (
            "string",
            f"{d.plant('ecr', f'{w.acct}.dkr.ecr.{w.region}.amazonaws.com')}/{w.org}/api",
            False,
        ),
        "deploy_role_arn": ("string", w.iam_arn(f"role/{w.org}-gha-deploy"), False),
        "ci_access_key_id": ("string", w.akid(), False),
        "ci_secret_access_key": ("string", w.secret() if as_json else "", True),
        "release": ("string", w.sha(), False),
    }
    if as_json:
        out = {
            k: {"sensitive": s, "type": (["list", "string"] if t == "list" else t), "value": val}
            for k, (t, val, s) in sorted(vals.items())
        }
        d.text = json.dumps(out, indent=2) + "\n"
    else:
        lines = []
        for k, (_t, val, s) in sorted(vals.items()):
            if s:
                lines.append(f"{k} = <sensitive>")
            elif isinstance(val, list):
                lines.append(f"{k} = tolist([\n" + "".join(f'  "{x}",\n' for x in val) + "])")
            else:
                lines.append(f'{k} = "{val}"')
        d.text = "\n".join(lines) + "\n"
    return d


def tf_show_json(v: Values, n: int) -> Doc:
    d = Doc(f"terraform-show-json-plan-{n}")
    w = World(v, d)
    b = w.bucket()
    sg = w.id("sg")
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.8.5",
        "resource_changes": [
            {
                "address": "aws_s3_bucket.logs",
                "mode": "managed",
                "type": "aws_s3_bucket",
                "name": "logs",
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": {"bucket": b, "force_destroy": False, "tags": {"env": w.env}},
                    "after_unknown": {"arn": True, "id": True},
                },
            },
            {
                "address": "aws_security_group_rule.db_ingress",
                "mode": "managed",
                "type": "aws_security_group_rule",
                "name": "db_ingress",
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {
                    "actions": ["delete", "create"],
                    "before": {
                        "security_group_id": sg,
                        "source_security_group_id": w.id("sg"),
                        "from_port": 5432,
                        "to_port": 5432,
                        "type": "ingress",
                        "id": "sgrule-" + v.digits(10),
                    },
                    "after": {
                        "security_group_id": sg,
                        "cidr_blocks": ["10.0.0.0/16"],
                        "from_port": 5432,
                        "to_port": 5432,
                        "type": "ingress",
                    },
                },
            },
        ],
        "configuration": {
            "provider_config": {
                "aws": {
                    "name": "aws",
                    "expressions": {
                        "region": {"constant_value": w.region},
                        "allowed_account_ids": {"constant_value": [w.acct]},
                        "assume_role": [{"role_arn": {"constant_value": w.iam_arn(f"role/{w.org}-terraform")}}],
                    },
                }
            }
        },
        "timestamp": zulu(w.when()),
    }
    d.text = json.dumps(plan, separators=(",", ":")) + "\n"
    return d


def tf_plan_json_stream(v: Values, n: int) -> Doc:
    d = Doc(f"terraform-plan-json-stream-{n}")
    w = World(v, d)
    iid = w.id("i", "ec2")
    lines = []
    t = w.when()
    for msg, extra in (
        ("Terraform 1.8.5", {"terraform": "1.8.5", "type": "version", "ui": "1.2"}),
        (
            f"aws_instance.bastion: Refreshing state... [id={iid}]",
            {
                "hook": {
                    "resource": {
                        "addr": "aws_instance.bastion",
                        "module": "",
                        "resource": "aws_instance.bastion",
                        "implied_provider": "aws",
                        "resource_type": "aws_instance",
                        "resource_name": "bastion",
                        "resource_key": None,
                    },
                    "id_key": "id",
                    "id_value": iid,
                },
                "type": "refresh_start",
            },
        ),
        (
            "aws_instance.bastion: Plan to replace",
            {
                "change": {
                    "resource": {"addr": "aws_instance.bastion", "resource_type": "aws_instance"},
                    "action": "replace",
                    "reason": "cannot_update",
                },
                "type": "planned_change",
            },
        ),
        (
            "Plan: 1 to add, 0 to change, 1 to destroy.",
            {
                "changes": {"add": 1, "change": 0, "import": 0, "remove": 1, "operation": "plan"},
                "type": "change_summary",
            },
        ),
    ):
        rec = {
            "@level": "info",
            "@message": msg,
            "@module": "terraform.ui",
            "@timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.") + v.digits(6) + "+09:00",
            **extra,
        }
        lines.append(json.dumps(rec, separators=(",", ":")))
    d.text = "\n".join(lines) + "\n"
    return d


def tf_files(v: Values, n: int) -> Doc:
    d = Doc(f"terraform-backend-provider-tfvars-{n}")
    w = World(v, d)
    state = w.d.plant("bucket", f"{w.org}-tfstate-{w.acct}")
    ak, sk = w.akid(), w.secret()
    d.text = f"""# backend.tf
terraform {{
  backend "s3" {{
    bucket         = "{state}"
    key            = "{w.env}/network/terraform.tfstate"
    region         = "{w.region}"
    dynamodb_table = "terraform-locks"
    encrypt        = true
    kms_key_id     = "{w.arn("kms", f"key/{w.kms_key()}")}"
  }}
}}

# provider.tf  (TODO: move the keys to a profile before merging)
provider "aws" {{
  region     = "{w.region}"
  access_key = "{ak}"
  secret_key = "{sk}"

  assume_role {{
    role_arn     = "{w.iam_arn(f"role/{w.org}-terraform")}"
    session_name = "tf-{w.env}"
    external_id  = "{w.uuid()}"
  }}

  allowed_account_ids = ["{w.acct}"]
}}

# {w.env}.tfvars
vpc_id                     = "{w.id("vpc")}"
private_subnet_ids         = ["{w.id("subnet")}", "{w.id("subnet")}"]
bastion_ami                = "{w.id("ami")}"
transit_gateway_id         = "{w.id("tgw")}"
peering_connection_id      = "{w.id("pcx")}"
log_archive_account_id     = "{d.plant("acct", v.account())}"
alerts_topic_arn           = "{w.arn("sns", f"{w.org}-alerts")}"
"""
    return d


def tf_state_file(v: Values, n: int) -> Doc:
    d = Doc(f"terraform-tfstate-{n}")
    w = World(v, d)
    ak = w.akid()
    user = f"{w.org}-ci"
    state = {
        "version": 4,
        "terraform_version": "1.8.5",
        "serial": v.r.randint(3, 300),
        "lineage": w.uuid(),
        "outputs": {"ci_user_arn": {"value": w.iam_arn(f"user/{user}"), "type": "string"}},
        "resources": [
            {
                "mode": "managed",
                "type": "aws_iam_access_key",
                "name": "ci",
                "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                "instances": [
                    {
                        "schema_version": 0,
                        "attributes": {
                            "create_date": zulu(w.when()),
                            "encrypted_secret": None,
                            "id": ak,
                            "pgp_key": None,
                            "secret": w.secret(),
                            "ses_smtp_password_v4": d.plant("secret", v.b64(33)),
                            "status": "Active",
                            "user": user,
                        },
                        "sensitive_attributes": [],
                        "dependencies": ["aws_iam_user.ci"],
                    }
                ],
            }
        ],
        "check_results": None,
    }
    d.text = json.dumps(state, indent=2) + "\n"
    return d


def tf_error(v: Values, n: int) -> Doc:
    d = Doc(f"terraform-apply-error-{n}")
    w = World(v, d)
    req = w.uuid()
    role = w.arn("sts", f"assumed-role/{w.org}-terraform/aws-go-sdk-{v.epoch(millis=False)}{v.digits(9)}", region=None)
    d.text = f"""╷
│ Error: creating EC2 Instance: operation error EC2: RunInstances, https response error StatusCode: 403, RequestID: {req}, api error UnauthorizedOperation: You are not authorized to perform this operation. User: {role} is not authorized to perform: ec2:RunInstances on resource: {w.arn("ec2", f"subnet/{w.id('subnet')}")} because no identity-based policy allows the ec2:RunInstances action.
│
│   with aws_instance.worker,
│   on main.tf line 41, in resource "aws_instance" "worker":
│   41: resource "aws_instance" "worker" {{
│
╵
╷
│ Error: reading S3 Bucket ({w.bucket()}): operation error S3: HeadBucket, https response error StatusCode: 403, RequestID: {v.chars(UPPER, 16)}, HostID: {d.look("b64", v.b64(57))}, api error Forbidden: Forbidden
│
╵
"""
    return d


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = []
    for k in (1, 2):
        docs += [cfn_template_yaml(v, k), cfn_template_json(v, k), cfn_deploy(v, k), cdk_deploy(v, k)]
        docs += [tf_plan(v, k), tf_apply(v, k), tf_state_show(v, k), tf_output(v, k, False), tf_output(v, k, True)]
    docs += [cfn_failed_events(v, 1), cdk_bootstrap(v, 1), cdk_context(v, 1), cdk_context(v, 2)]
    docs += [
        tf_show_json(v, 1),
        tf_plan_json_stream(v, 1),
        tf_files(v, 1),
        tf_files(v, 2),
        tf_state_file(v, 1),
        tf_error(v, 1),
    ]
    return docs
