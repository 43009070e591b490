"""aws ec2 describe-* in --output json, text and table."""

from __future__ import annotations

from typing import Any

from tests.corpus.gen.awscli_fmt import render
from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values, iso
from tests.corpus.gen.world import World

OUTPUTS = ["json", "text", "table"]


def tags(w: World, name: str, extra: bool = True) -> list[dict[str, str]]:
    t = [{"Key": "Name", "Value": name}]
    if extra:
        r = w.v.r.random()
        if r < 0.35:
            t.append({"Key": "git_sha", "Value": w.sha()})
        elif r < 0.6:
            t.append({"Key": "deployed_at", "Value": w.epoch()})
        elif r < 0.8:
            t.append({"Key": "cost-center", "Value": w.v.choice(["platform", "data", "web"])})
        t.append({"Key": "env", "Value": w.env})
    return t


def instance(w: World, vpc: str, subnet: str, sg: tuple[str, str], ami: str, n: int) -> dict[str, Any]:
    v = w.v
    iid = w.id("i", "ec2", short=v.r.random() < 0.1)
    priv = v.private_ip("10.0")
    public = v.r.random() < 0.6
    launch = w.when()
    role = w.name(w.env, "web-role")
    nic = w.id("eni")
    inst: dict[str, Any] = {
        "AmiLaunchIndex": 0,
        "ImageId": ami,
        "InstanceId": iid,
        "InstanceType": v.choice(["t3.medium", "m6i.large", "c7g.xlarge", "t4g.small", "r6i.2xlarge"]),
        "KeyName": w.name(w.env, "deploy"),
        "LaunchTime": iso(launch),
        "Monitoring": {"State": "disabled"},
        "Placement": {"AvailabilityZone": w.az(), "GroupName": "", "Tenancy": "default"},
        "PrivateDnsName": f"ip-{priv.replace('.', '-')}.{w.region}.compute.internal",
        "PrivateIpAddress": priv,
        "ProductCodes": [],
        "PublicDnsName": "",
        "State": {"Code": 16, "Name": "running"},
        "StateTransitionReason": "",
        "SubnetId": subnet,
        "VpcId": vpc,
        "Architecture": "x86_64",
        "BlockDeviceMappings": [
            {
                "DeviceName": "/dev/xvda",
                "Ebs": {
                    "AttachTime": iso(launch),
                    "DeleteOnTermination": True,
                    "Status": "attached",
                    "VolumeId": w.id("vol"),
                },
            }
        ],
        "ClientToken": w.uuid() if v.r.random() < 0.5 else "",
        "EbsOptimized": True,
        "EnaSupport": True,
        "Hypervisor": "xen",
        "IamInstanceProfile": {"Arn": w.iam_arn(f"instance-profile/{role}"), "Id": w.uid("AIPA")},
        "NetworkInterfaces": [
            {
                "Attachment": {
                    "AttachTime": iso(launch),
                    "AttachmentId": w.id("eni-attach"),
                    "DeleteOnTermination": True,
                    "DeviceIndex": 0,
                    "Status": "attached",
                    "NetworkCardIndex": 0,
                },
                "Description": "",
                "Groups": [{"GroupName": sg[1], "GroupId": sg[0]}],
                "Ipv6Addresses": [],
                "MacAddress": ":".join(v.hexs(2) for _ in range(6)),
                "NetworkInterfaceId": nic,
                "OwnerId": w.acct,
                "PrivateDnsName": f"ip-{priv.replace('.', '-')}.{w.region}.compute.internal",
                "PrivateIpAddress": priv,
                "SourceDestCheck": True,
                "Status": "in-use",
                "SubnetId": subnet,
                "VpcId": vpc,
                "InterfaceType": "interface",
            }
        ],
        "RootDeviceName": "/dev/xvda",
        "RootDeviceType": "ebs",
        "SecurityGroups": [{"GroupName": sg[1], "GroupId": sg[0]}],
        "SourceDestCheck": True,
        "Tags": tags(w, w.name(w.env, "web", str(n))),
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
    if public:
        ip = v.public_ip()
        dns = w.d.plant("host", Values.public_dns(ip, w.region))
        inst["PublicDnsName"] = dns
        inst["PublicIpAddress"] = ip
        inst["NetworkInterfaces"][0]["Association"] = {"IpOwnerId": "amazon", "PublicDnsName": dns, "PublicIp": ip}
    if v.r.random() < 0.3:
        stack_uuid = v.uuid()
        inst["Tags"].append(
            {
                "Key": "aws:cloudformation:stack-id",
                "Value": w.arn("cloudformation", f"stack/{w.name(w.env, 'web')}/{stack_uuid}"),
            }
        )
    return inst


def net(w: World) -> tuple[str, str, tuple[str, str], str]:
    vpc = w.id("vpc", short=w.v.r.random() < 0.25)
    subnet = w.id("subnet", short=w.v.r.random() < 0.25)
    sg = (w.id("sg", short=w.v.r.random() < 0.2), w.name(w.env, "web-sg"))
    ami = w.id("ami")
    return vpc, subnet, sg, ami


def describe_instances(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"ec2-describe-instances-{out}-{n}")
    w = World(v, d)
    vpc, subnet, sg, ami = net(w)
    count = 1 if out == "table" else v.r.randint(1, 2)
    resp = {
        "Reservations": [
            {
                "Groups": [],
                "Instances": [instance(w, vpc, subnet, sg, ami, k + 1) for k in range(count)],
                "OwnerId": w.acct,
                "ReservationId": w.id("r", "resv"),
            }
        ]
    }
    d.text = render("DescribeInstances", resp, out, width=v.choice([120, 200, 260]))
    return d


def describe_vpcs(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"ec2-describe-vpcs-{out}-{n}")
    w = World(v, d)
    vpcs = []
    for k in range(v.r.randint(1, 3)):
        default = k == 0 and v.r.random() < 0.5
        cidr = "172.31.0.0/16" if default else f"10.{v.r.randint(0, 60)}.0.0/16"
        vpcs.append(
            {
                "CidrBlock": cidr,
                "DhcpOptionsId": w.id("dopt", short=v.r.random() < 0.5),
                "State": "available",
                "VpcId": w.id("vpc", short=v.r.random() < 0.3),
                "OwnerId": w.acct,
                "InstanceTenancy": "default",
                "CidrBlockAssociationSet": [
                    {
                        "AssociationId": w.id("vpc-cidr-assoc"),
                        "CidrBlock": cidr,
                        "CidrBlockState": {"State": "associated"},
                    }
                ],
                "IsDefault": default,
                **({} if default else {"Tags": tags(w, w.name(w.env, "vpc"), extra=False)}),
            }
        )
    d.text = render("DescribeVpcs", {"Vpcs": vpcs}, out, width=v.choice([100, 160]))
    return d


def describe_subnets(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"ec2-describe-subnets-{out}-{n}")
    w = World(v, d)
    vpc = w.id("vpc")
    subnets = []
    for k, letter in enumerate("abc"[: v.r.randint(2, 3)]):
        sid = w.id("subnet", short=v.r.random() < 0.2)
        subnets.append(
            {
                "AvailabilityZone": w.az(letter),
                "AvailabilityZoneId": w.az_id(),
                "AvailableIpAddressCount": v.r.randint(200, 4091),
                "CidrBlock": f"10.0.{k * 16}.0/20",
                "DefaultForAz": False,
                "MapPublicIpOnLaunch": k == 0,
                "MapCustomerOwnedIpOnLaunch": False,
                "State": "available",
                "SubnetId": sid,
                "VpcId": vpc,
                "OwnerId": w.acct,
                "AssignIpv6AddressOnCreation": False,
                "Ipv6CidrBlockAssociationSet": [],
                "Tags": [{"Key": "Name", "Value": w.name(w.env, "private" if k else "public", letter)}],
                "SubnetArn": w.arn("ec2", f"subnet/{sid}"),
                "EnableDns64": False,
                "Ipv6Native": False,
                "PrivateDnsNameOptionsOnLaunch": {
                    "HostnameType": "ip-name",
                    "EnableResourceNameDnsARecord": False,
                    "EnableResourceNameDnsAAAARecord": False,
                },
            }
        )
    d.text = render("DescribeSubnets", {"Subnets": subnets}, out, width=v.choice([140, 220]))
    return d


def describe_security_groups(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"ec2-describe-security-groups-{out}-{n}")
    w = World(v, d)
    vpc = w.id("vpc")
    alb_sg = w.id("sg")
    groups = []
    for name in ("web", "db"):
        gid = w.id("sg", short=v.r.random() < 0.2)
        src = (
            {"GroupId": alb_sg, "UserId": w.acct}
            if name == "web"
            else {"GroupId": groups[0]["GroupId"], "UserId": w.acct}
        )
        groups.append(
            {
                "Description": f"{name} tier",
                "GroupName": w.name(w.env, name),
                "IpPermissions": [
                    {
                        "FromPort": 443 if name == "web" else 5432,
                        "IpProtocol": "tcp",
                        "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "vpc"}],
                        "Ipv6Ranges": [],
                        "PrefixListIds": [],
                        "ToPort": 443 if name == "web" else 5432,
                        "UserIdGroupPairs": [src],
                    }
                ],
                "OwnerId": w.acct,
                "GroupId": gid,
                "IpPermissionsEgress": [
                    {
                        "IpProtocol": "-1",
                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                        "Ipv6Ranges": [],
                        "PrefixListIds": [],
                        "UserIdGroupPairs": [],
                    }
                ],
                "VpcId": vpc,
            }
        )
    d.text = render("DescribeSecurityGroups", {"SecurityGroups": groups}, out, width=v.choice([120, 180]))
    return d


def describe_volumes(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"ec2-describe-volumes-{out}-{n}")
    w = World(v, d)
    vols = []
    for _ in range(v.r.randint(1, 3)):
        vid = w.id("vol", short=v.r.random() < 0.1)
        iid = w.id("i", "ec2")
        t = iso(w.when())
        encrypted = v.r.random() < 0.7
        vol: dict[str, Any] = {
            "Attachments": [
                {
                    "AttachTime": t,
                    "Device": "/dev/xvda",
                    "InstanceId": iid,
                    "State": "attached",
                    "VolumeId": vid,
                    "DeleteOnTermination": True,
                }
            ],
            "AvailabilityZone": w.az(),
            "CreateTime": t,
            "Encrypted": encrypted,
            "Size": v.choice(["8", "20", "100", "500"]),
            "SnapshotId": w.id("snap") if v.r.random() < 0.6 else "",
            "State": "in-use",
            "VolumeId": vid,
            "Iops": 3000,
            "VolumeType": "gp3",
            "MultiAttachEnabled": False,
            "Throughput": 125,
        }
        vol["Size"] = int(vol["Size"])
        if encrypted:
            vol["KmsKeyId"] = w.arn("kms", f"key/{w.kms_key()}")
        vols.append(vol)
    d.text = render("DescribeVolumes", {"Volumes": vols}, out, width=v.choice([140, 240]))
    return d


def describe_snapshots(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"ec2-describe-snapshots-{out}-{n}")
    w = World(v, d)
    snaps = []
    for _ in range(v.r.randint(1, 3)):
        sid = w.id("snap")
        vid = w.id("vol")
        snaps.append(
            {
                "Description": f"Created by CreateImage({w.id('i', 'ec2')}) for {w.id('ami')}",
                "Encrypted": False,
                "OwnerId": w.acct,
                "Progress": "100%",
                "SnapshotId": sid,
                "StartTime": iso(w.when(), millis=True),
                "State": "completed",
                "VolumeId": vid,
                "VolumeSize": 30,
                "StorageTier": "standard",
            }
        )
    d.text = render("DescribeSnapshots", {"Snapshots": snaps}, out, width=200)
    return d


def describe_images(v: Values, out: str, n: int) -> Doc:
    d = Doc(f"ec2-describe-images-{out}-{n}")
    w = World(v, d)
    images = []
    for _ in range(v.r.randint(1, 2)):
        ami = w.id("ami", short=v.r.random() < 0.15)
        snap = w.id("snap")
        sha = w.short_sha()
        name = f"{w.name(w.env, 'web')}-{sha}"
        images.append(
            {
                "Architecture": "x86_64",
                "CreationDate": iso(w.when(), millis=True),
                "ImageId": ami,
                "ImageLocation": f"{w.acct}/{name}",
                "ImageType": "machine",
                "Public": False,
                "OwnerId": w.acct,
                "PlatformDetails": "Linux/UNIX",
                "UsageOperation": "RunInstances",
                "State": "available",
                "BlockDeviceMappings": [
                    {
                        "DeviceName": "/dev/xvda",
                        "Ebs": {
                            "DeleteOnTermination": True,
                            "SnapshotId": snap,
                            "VolumeSize": 30,
                            "VolumeType": "gp3",
                            "Encrypted": False,
                        },
                    }
                ],
                "EnaSupport": True,
                "Hypervisor": "xen",
                "Name": name,
                "RootDeviceName": "/dev/xvda",
                "RootDeviceType": "ebs",
                "SriovNetSupport": "simple",
                "Tags": [{"Key": "source_commit", "Value": w.sha()}],
                "VirtualizationType": "hvm",
                "BootMode": "uefi-preferred",
                "DeprecationTime": iso(w.when(), millis=True),
            }
        )
    d.text = render("DescribeImages", {"Images": images}, out, width=v.choice([150, 260]))
    return d


def build(v: Values) -> list[Doc]:
    docs = []
    for fn, outs in (
        (describe_instances, OUTPUTS * 2),
        (describe_vpcs, OUTPUTS),
        (describe_subnets, OUTPUTS),
        (describe_security_groups, OUTPUTS),
        (describe_volumes, OUTPUTS),
        (describe_snapshots, OUTPUTS),
        (describe_images, OUTPUTS),
    ):
        seen: dict[str, int] = {}
        for out in outs:
            seen[out] = seen.get(out, 0) + 1
            docs.append(fn(v, out, seen[out]))
    return docs
