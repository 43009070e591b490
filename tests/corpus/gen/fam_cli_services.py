"""aws CLI of the other services: rds, elbv2, eks, ecr, lambda, cloudfront, route53,
organizations, sqs, sns, secretsmanager, ssm."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from tests.corpus.gen.awscli_fmt import render
from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import LOWER_ALNUM, Values, iso
from tests.corpus.gen.world import World

OUTPUTS = ["json", "text", "table"]


def rds_instances(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"rds-describe-db-instances-{out}-{n}")
    w = World(v, d)
    sfx = v.rds_suffix()
    dbs = []
    for app in sorted({v.app() for _ in range(1 if out == "table" else 2)}):
        ident = f"{w.org}-{app}-{w.env}"
        host = d.plant("rds", f"{ident}.{sfx}.{w.region}.rds.amazonaws.com")
        kid = w.kms_key()
        dbs.append(
            {
                "DBInstanceIdentifier": ident,
                "DBInstanceClass": v.choice(["db.t4g.medium", "db.r6g.large", "db.m6g.xlarge"]),
                "Engine": "postgres",
                "DBInstanceStatus": "available",
                "MasterUsername": "postgres",
                "DBName": app,
                "Endpoint": {"Address": host, "Port": 5432, "HostedZoneId": "Z2VFMSZA74J7XZ"},
                "AllocatedStorage": 100,
                "InstanceCreateTime": iso(w.when(), millis=True),
                "PreferredBackupWindow": "17:00-17:30",
                "BackupRetentionPeriod": 7,
                "VpcSecurityGroups": [{"VpcSecurityGroupId": w.id("sg"), "Status": "active"}],
                "DBSubnetGroup": {
                    "DBSubnetGroupName": f"{w.org}-{w.env}-db",
                    "VpcId": w.id("vpc"),
                    "SubnetGroupStatus": "Complete",
                    "Subnets": [
                        {
                            "SubnetIdentifier": w.id("subnet"),
                            "SubnetAvailabilityZone": {"Name": w.az(x)},
                            "SubnetStatus": "Active",
                        }
                        for x in "ab"
                    ],
                },
                "MultiAZ": w.env == "prod",
                "EngineVersion": "15.5",
                "PubliclyAccessible": False,
                "StorageType": "gp3",
                "StorageEncrypted": True,
                "KmsKeyId": w.arn("kms", f"key/{kid}"),
                "DbiResourceId": "db-" + v.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 26),
                "CACertificateIdentifier": "rds-ca-rsa2048-g1",
                "DBInstanceArn": w.arn("rds", f"db:{ident}"),
                "IAMDatabaseAuthenticationEnabled": False,
                "PerformanceInsightsEnabled": False,
                "DeletionProtection": True,
                "TagList": [{"Key": "env", "Value": w.env}],
            }
        )
    d.text = render("DescribeDBInstances", {"DBInstances": dbs}, out, width=v.choice([150, 250]))
    return d


def rds_clusters(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"rds-describe-db-clusters-{out}-{n}")
    w = World(v, d)
    sfx = v.rds_suffix()
    ident = f"{w.org}-{v.app()}-aurora"
    resp = {
        "DBClusters": [
            {
                "AllocatedStorage": 1,
                "AvailabilityZones": [w.az(x) for x in "abc"],
                "BackupRetentionPeriod": 14,
                "DatabaseName": "app",
                "DBClusterIdentifier": ident,
                "DBClusterParameterGroup": "default.aurora-mysql8.0",
                "DBSubnetGroup": f"{w.org}-db",
                "Status": "available",
                "Endpoint": d.plant("rds", f"{ident}.cluster-{sfx}.{w.region}.rds.amazonaws.com"),
                "ReaderEndpoint": d.plant("rds", f"{ident}.cluster-ro-{sfx}.{w.region}.rds.amazonaws.com"),
                "MultiAZ": True,
                "Engine": "aurora-mysql",
                "EngineVersion": "8.0.mysql_aurora.3.05.2",
                "Port": 3306,
                "MasterUsername": "admin",
                "DBClusterMembers": [
                    {"DBInstanceIdentifier": f"{ident}-{k}", "IsClusterWriter": k == 0, "PromotionTier": 1}
                    for k in range(2)
                ],
                "VpcSecurityGroups": [{"VpcSecurityGroupId": w.id("sg"), "Status": "active"}],
                "HostedZoneId": "Z1PVIF0B656C1W",
                "StorageEncrypted": True,
                "KmsKeyId": w.arn("kms", f"key/{w.kms_key()}"),
                "DbClusterResourceId": "cluster-" + v.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 26),
                "DBClusterArn": w.arn("rds", f"cluster:{ident}"),
                "ClusterCreateTime": iso(w.when(), millis=True),
                "EngineMode": "provisioned",
                "DeletionProtection": True,
            }
        ]
    }
    d.text = render("DescribeDBClusters", resp, out, width=220)
    return d


def elb_lbs(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"elbv2-describe-load-balancers-{out}-{n}")
    w = World(v, d)
    lbs = []
    for kind in ("application", "network")[: 1 if out == "table" else 2]:
        name = f"{w.org}-{w.env}-{'alb' if kind == 'application' else 'nlb'}"
        host = (
            v.alb_host(name, w.region, internal=v.r.random() < 0.3)
            if kind == "application"
            else v.nlb_host(name, w.region)
        )
        d.plant("elb", host)
        lbid = v.hexs(16)
        lbs.append(
            {
                "LoadBalancerArn": w.arn(
                    "elasticloadbalancing", f"loadbalancer/{'app' if kind == 'application' else 'net'}/{name}/{lbid}"
                ),
                "DNSName": host,
                "CanonicalHostedZoneId": "ZWKZPGTI48KDX" if w.region == "ap-northeast-2" else "Z35SXDOTRQ7X7K",
                "CreatedTime": iso(w.when(), millis=True),
                "LoadBalancerName": name,
                "Scheme": "internal" if host.startswith("internal-") else "internet-facing",
                "VpcId": w.id("vpc"),
                "State": {"Code": "active"},
                "Type": kind,
                "AvailabilityZones": [
                    {"ZoneName": w.az(x), "SubnetId": w.id("subnet"), "LoadBalancerAddresses": []} for x in "ab"
                ],
                "SecurityGroups": [w.id("sg")] if kind == "application" else [],
                "IpAddressType": "ipv4",
            }
        )
    d.text = render("DescribeLoadBalancers", {"LoadBalancers": lbs}, out, width=v.choice([160, 280]))
    return d


def elb_tgs(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"elbv2-describe-target-groups-{out}-{n}")
    w = World(v, d)
    vpc = w.id("vpc")
    lb = w.arn("elasticloadbalancing", f"loadbalancer/app/{w.org}-{w.env}-alb/{v.hexs(16)}")
    tgs = []
    for app in sorted({v.app() for _ in range(2)}):
        name = f"{w.org}-{app}-tg"
        tgs.append(
            {
                "TargetGroupArn": w.arn("elasticloadbalancing", f"targetgroup/{name}/{v.hexs(16)}"),
                "TargetGroupName": name,
                "Protocol": "HTTP",
                "Port": 8080,
                "VpcId": vpc,
                "HealthCheckProtocol": "HTTP",
                "HealthCheckPort": "traffic-port",
                "HealthCheckEnabled": True,
                "HealthCheckIntervalSeconds": 30,
                "HealthCheckTimeoutSeconds": 5,
                "HealthyThresholdCount": 5,
                "UnhealthyThresholdCount": 2,
                "HealthCheckPath": "/healthz",
                "Matcher": {"HttpCode": "200"},
                "LoadBalancerArns": [lb],
                "TargetType": "ip",
                "ProtocolVersion": "HTTP1",
                "IpAddressType": "ipv4",
            }
        )
    d.text = render("DescribeTargetGroups", {"TargetGroups": tgs}, out, width=260)
    return d


def eks_cluster(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"eks-describe-cluster-{out}-{n}")
    w = World(v, d)
    name = f"{w.org}-{w.env}"
    host = d.plant("eks", v.eks_host(w.region))
    cid = host.split(".", 1)[0]
    ca = d.look("b64", base64.b64encode(b"-----BEGIN CERTIFICATE-----\n" + v.randbytes(420)).decode())
    resp = {
        "cluster": {
            "name": name,
            "arn": w.arn("eks", f"cluster/{name}"),
            "createdAt": iso(w.when()),
            "version": "1.30",
            "endpoint": f"https://{host}",
            "roleArn": w.iam_arn(f"role/{name}-cluster-role"),
            "resourcesVpcConfig": {
                "subnetIds": [w.id("subnet") for _ in range(3)],
                "securityGroupIds": [w.id("sg")],
                "clusterSecurityGroupId": w.id("sg"),
                "vpcId": w.id("vpc"),
                "endpointPublicAccess": True,
                "endpointPrivateAccess": True,
                "publicAccessCidrs": ["0.0.0.0/0"],
            },
            "kubernetesNetworkConfig": {"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4"},
            "logging": {"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]},
            "identity": {"oidc": {"issuer": f"https://oidc.eks.{w.region}.amazonaws.com/id/{d.plant('eks', cid)}"}},
            "status": "ACTIVE",
            "certificateAuthority": {"data": ca},
            "platformVersion": "eks.8",
            "tags": {"env": w.env},
            "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
        }
    }
    d.text = render("DescribeCluster", resp, out, width=300)
    return d


def ecr_repos(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"ecr-describe-repositories-{out}-{n}")
    w = World(v, d)
    reg = d.plant("ecr", f"{w.acct}.dkr.ecr.{w.region}.amazonaws.com")
    repos = []
    for app in sorted({v.app() for _ in range(3)}):
        repos.append(
            {
                "repositoryArn": w.arn("ecr", f"repository/{w.org}/{app}"),
                "registryId": w.acct,
                "repositoryName": f"{w.org}/{app}",
                "repositoryUri": f"{reg}/{w.org}/{app}",
                "createdAt": iso(w.when()),
                "imageTagMutability": "MUTABLE",
                "imageScanningConfiguration": {"scanOnPush": True},
                "encryptionConfiguration": {"encryptionType": "AES256"},
            }
        )
    d.text = render("DescribeRepositories", {"repositories": repos}, out, width=v.choice([160, 240]))
    return d


def ecr_token(v: Values) -> str:
    """The password docker gets: base64 of a JSON envelope; long, no recognisable header."""
    envelope = json.dumps(
        {
            "payload": base64.b64encode(v.randbytes(900)).decode(),
            "datakey": base64.b64encode(v.randbytes(180)).decode(),
            "version": "2",
            "type": "DATA_KEY",
            "expiration": int(v.epoch()),
        },
        separators=(",", ":"),
    )
    return base64.b64encode(envelope.encode()).decode()


def ecr_login(v: Values, n: int) -> Doc:
    d = Doc(f"ecr-login-{n}")
    w = World(v, d)
    reg = d.plant("ecr", f"{w.acct}.dkr.ecr.{w.region}.amazonaws.com")
    token = d.plant("ecrauth", ecr_token(v))
    if n == 1:
        # aws ecr get-login (CLI v1, removed in v2) prints the docker command
        d.text = f"$ aws ecr get-login --no-include-email --region {w.region}\ndocker login -u AWS -p {token} https://{reg}\n"
    elif n == 2:
        d.text = (
            f"$ aws ecr get-login-password --region {w.region}\n{token}\n"
            f"$ aws ecr get-login-password --region {w.region} | docker login --username AWS --password-stdin {reg}\n"
            "WARNING! Your password will be stored unencrypted in /home/ec2-user/.docker/config.json.\n"
            "Configure a credential helper to remove this warning. See\n"
            "https://docs.docker.com/engine/reference/commandline/login/#credentials-store\n\n"
            "Login Succeeded\n"
        )
    else:
        auth = d.plant("ecrauth", base64.b64encode(f"AWS:{ecr_token(v)}".encode()).decode())
        resp = {
            "authorizationData": [
                {"authorizationToken": auth, "expiresAt": iso(w.when()), "proxyEndpoint": f"https://{reg}"}
            ]
        }
        d.text = render("GetAuthorizationToken", resp, "json")
        d.planted.pop(token)
        d.expect.pop(token)
    return d


def lambda_list(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"lambda-list-functions-{out}-{n}")
    w = World(v, d)
    fns = []
    for app in sorted({v.app() for _ in range(2)}):
        name = f"{w.org}-{app}-{w.env}"
        fn: dict[str, Any] = {
            "FunctionName": name,
            "FunctionArn": w.arn("lambda", f"function:{name}"),
            "Runtime": v.choice(["python3.12", "nodejs20.x"]),
            "Role": w.iam_arn(f"role/{name}-exec"),
            "Handler": "app.handler",
            "CodeSize": v.r.randint(2000, 9_000_000),
            "Description": "",
            "Timeout": 30,
            "MemorySize": 512,
            "LastModified": iso(w.when(), millis=True).replace("Z", "+0000"),
            "CodeSha256": d.look("b64", base64.b64encode(v.randbytes(32)).decode()),
            "Version": "$LATEST",
            "Environment": {
                "Variables": {
                    "TABLE_NAME": f"{app}-{w.env}",
                    "BUCKET": w.bucket(),
                    "QUEUE_URL": f"https://sqs.{w.region}.amazonaws.com/{w.acct}/{app}-events",
                    "GIT_SHA": w.sha(),
                }
            },
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": w.uuid(),
            "PackageType": "Zip",
            "Architectures": ["arm64"],
            "EphemeralStorage": {"Size": 512},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
        }
        if v.r.random() < 0.5:
            fn["VpcConfig"] = {"SubnetIds": [w.id("subnet")], "SecurityGroupIds": [w.id("sg")], "VpcId": w.id("vpc")}
        fns.append(fn)
    d.text = render("ListFunctions", {"Functions": fns}, out, width=220)
    return d


def lambda_url(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"lambda-get-function-url-config-{out}-{n}")
    w = World(v, d)
    name = f"{w.org}-{v.app()}-webhook"
    host = d.plant("lambda", f"{v.lambda_url_id()}.lambda-url.{w.region}.on.aws")
    resp = {
        "FunctionUrl": f"https://{host}/",
        "FunctionArn": w.arn("lambda", f"function:{name}"),
        "AuthType": "NONE",
        "Cors": {"AllowOrigins": ["*"], "AllowMethods": ["POST"]},
        "CreationTime": iso(w.when(), millis=True),
        "LastModifiedTime": iso(w.when(), millis=True),
        "InvokeMode": "BUFFERED",
    }
    d.text = render("GetFunctionUrlConfig", resp, out)
    return d


def cloudfront(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"cloudfront-list-distributions-{out}-{n}")
    w = World(v, d)
    items = []
    for _ in range(1 if out == "table" else 2):
        did = d.plant("cdn", v.distribution_id())
        dom = d.plant("cdn", v.cloudfront_domain())
        b = w.bucket("prod")
        items.append(
            {
                "Id": did,
                "ARN": w.arn("cloudfront", f"distribution/{did}", region=None),
                "Status": "Deployed",
                "LastModifiedTime": iso(w.when(), millis=True),
                "DomainName": dom,
                "Aliases": {"Quantity": 1, "Items": [f"static.{w.org}.example"]},
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": f"{b}.s3.{w.region}.amazonaws.com",
                            "DomainName": f"{b}.s3.{w.region}.amazonaws.com",
                            "OriginPath": "",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                            "OriginAccessControlId": "E" + v.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 13),
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": f"{b}.s3.{w.region}.amazonaws.com",
                    "ViewerProtocolPolicy": "redirect-to-https",
                },
                "PriceClass": "PriceClass_200",
                "Enabled": True,
                "HttpVersion": "http2and3",
                "IsIPV6Enabled": True,
                "Staging": False,
            }
        )
    resp = {
        "DistributionList": {
            "Items": items,
            "IsTruncated": False,
            "Marker": "",
            "MaxItems": 100,
            "Quantity": len(items),
        }
    }
    d.text = render("ListDistributions", resp, out, width=v.choice([180, 260]))
    return d


def route53(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"route53-list-hosted-zones-{out}-{n}")
    w = World(v, d)
    zones = []
    for private in (False, True):
        zid = d.plant("zone", v.zone_id())
        zones.append(
            {
                "Id": f"/hostedzone/{zid}",
                "Name": f"{'internal.' if private else ''}{w.org}.example.",
                "CallerReference": w.uuid() if private else f"RISWorkflow-RD:{w.uuid()}",
                "Config": {"Comment": "" if not private else "vpc zone", "PrivateZone": private},
                "ResourceRecordSetCount": v.r.randint(3, 40),
            }
        )
    d.text = render("ListHostedZones", {"HostedZones": zones}, out, width=160)
    return d


def org_describe(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"organizations-describe-organization-{out}-{n}")
    w = World(v, d)
    oid = d.plant("org", v.org_id())
    resp = {
        "Organization": {
            "Id": oid,
            "Arn": w.arn("organizations", f"organization/{oid}", region=None),
            "FeatureSet": "ALL",
            "MasterAccountArn": w.arn("organizations", f"account/{oid}/{w.acct}", region=None),
            "MasterAccountId": w.acct,
            "MasterAccountEmail": f"aws-root@{w.org}.example",
            "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
        }
    }
    d.text = render("DescribeOrganization", resp, out)
    return d


def org_accounts(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"organizations-list-accounts-{out}-{n}")
    w = World(v, d)
    oid = d.plant("org", v.org_id())
    accts = []
    for env in ["management", "prod", "stg", "dev", "security", "log-archive"][: v.r.randint(3, 6)]:
        a = w.acct if env == "management" else d.plant("acct", v.account())
        accts.append(
            {
                "Id": a,
                "Arn": w.arn("organizations", f"account/{oid}/{a}", region=None),
                "Email": f"aws+{env}@{w.org}.example",
                "Name": f"{w.org}-{env}",
                "Status": "ACTIVE",
                "JoinedMethod": "CREATED" if env != "management" else "INVITED",
                "JoinedTimestamp": iso(w.when(), millis=True),
            }
        )
    d.text = render("ListAccounts", {"Accounts": accts}, out, width=v.choice([150, 220]))
    return d


def sqs(v: Values, out: str, n: int) -> Doc:
    w_doc = Doc(f"sqs-get-queue-url-{out}-{n}" if n % 2 else f"sqs-list-queues-{out}-{n}")
    w = World(v, w_doc)
    if n % 2:
        resp: dict[str, Any] = {"QueueUrl": f"https://sqs.{w.region}.amazonaws.com/{w.acct}/{w.org}-{v.app()}-events"}
        w_doc.text = render("GetQueueUrl", resp, out)
    else:
        urls = [
            f"https://sqs.{w.region}.amazonaws.com/{w.acct}/{w.org}-{a}-{s}"
            for a in sorted({v.app() for _ in range(3)})
            for s in ("events", "events-dlq")
        ]
        w_doc.text = render("ListQueues", {"QueueUrls": urls}, out, width=140)
    return w_doc


def sns(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"sns-list-topics-{out}-{n}")
    w = World(v, d)
    topics = [{"TopicArn": w.arn("sns", f"{w.org}-{a}")} for a in sorted({v.app() for _ in range(3)} | {"alerts"})]
    d.text = render("ListTopics", {"Topics": topics}, out)
    return d


def password(v: Values) -> str:
    return v.chars(LOWER_ALNUM + "ABCDEFGHJKLMNPQRSTUVWXYZ" + "!#^*-_+=", v.r.choice([20, 24, 32]))


def secret_value(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"secretsmanager-get-secret-value-{out}-{n}")
    w = World(v, d)
    name = f"{w.env}/{v.app()}/{'db' if n % 2 else 'aws'}"
    sfx = v.rds_suffix()
    if n % 2:
        value = {
            "username": "app",
            "password": d.plant("secretvalue", password(v)),
            "engine": "postgres",
            "host": d.plant("rds", f"{w.org}-{w.env}.cluster-{sfx}.{w.region}.rds.amazonaws.com"),
            "port": 5432,
            "dbClusterIdentifier": f"{w.org}-{w.env}",
        }
    else:
        value = {"aws_access_key_id": w.akid(), "aws_secret_access_key": w.secret()}
    resp = {
        "ARN": w.arn(
            "secretsmanager", f"secret:{name}-{v.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 6)}"
        ),
        "Name": name,
        "VersionId": w.uuid(),
        "SecretString": json.dumps(value, separators=(",", ":")),
        "VersionStages": ["AWSCURRENT"],
        "CreatedDate": iso(w.when()),
    }
    d.text = render("GetSecretValue", resp, out, width=300)
    return d


def ssm_params(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"ssm-get-parameters-{out}-{n}")
    w = World(v, d)
    app = v.app()
    params = []
    t = w.when()
    for pname, ptype, value in (
        (f"/{w.env}/{app}/db-password", "SecureString", d.plant("secretvalue", password(v))),
        (f"/{w.env}/{app}/assets-bucket", "String", w.bucket()),
        (f"/{w.env}/{app}/kms-key-arn", "String", w.arn("kms", f"key/{w.kms_key()}")),
        (f"/{w.env}/{app}/release", "String", w.sha()),
    ):
        params.append(
            {
                "Name": pname,
                "Type": ptype,
                "Value": value,
                "Version": v.r.randint(1, 9),
                "LastModifiedDate": iso(t + timedelta(days=v.r.randint(0, 40))),
                "ARN": w.arn("ssm", f"parameter{pname}"),
                "DataType": "text",
            }
        )
    d.text = render("GetParameters", {"Parameters": params, "InvalidParameters": []}, out, width=v.choice([180, 260]))
    return d


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = []
    for fn, outs in (
        (rds_instances, OUTPUTS),
        (rds_clusters, OUTPUTS),
        (elb_lbs, OUTPUTS),
        (elb_tgs, OUTPUTS),
        (eks_cluster, OUTPUTS),
        (ecr_repos, OUTPUTS),
        (lambda_list, OUTPUTS),
        (lambda_url, OUTPUTS),
        (cloudfront, OUTPUTS),
        (route53, OUTPUTS),
        (org_describe, OUTPUTS),
        (org_accounts, OUTPUTS),
        (sqs, ["json", "text", "table", "json", "text", "table"]),
        (sns, OUTPUTS),
        (secret_value, ["json", "text", "table", "json", "text", "table"]),
        (ssm_params, OUTPUTS),
    ):
        for k, out in enumerate(outs, start=1):
            docs.append(fn(v, out, k))
    docs += [ecr_login(v, k) for k in (1, 2, 3)]
    return docs
