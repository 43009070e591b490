""".env files, docker-compose, Kubernetes manifests and Secrets, Helm values, kubeconfig,
kubectl output and GitHub Actions workflows."""

# ruff: noqa: E501  (templates hold tool output lines as the tools print them)

from __future__ import annotations

import base64

from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values
from tests.corpus.gen.world import World


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def dotenv(v: Values, n: int) -> Doc:
    d = Doc(f"dotenv-{n}")
    w = World(v, d)
    app = v.app()
    sfx = v.rds_suffix()
    db = d.plant("rds", f"{w.org}-{w.env}.cluster-{sfx}.{w.region}.rds.amazonaws.com")
    quote = '"' if n % 2 else ""
    d.text = f"""# .env.{w.env} -- do not commit
NODE_ENV=production
APP_NAME={app}
AWS_REGION={w.region}
AWS_ACCOUNT_ID={w.acct}
AWS_ACCESS_KEY_ID={quote}{w.akid()}{quote}
AWS_SECRET_ACCESS_KEY={quote}{w.secret()}{quote}
S3_BUCKET={w.bucket()}
UPLOADS_BUCKET_NAME={quote}{w.bucket()}{quote}
SQS_QUEUE_URL=https://sqs.{w.region}.amazonaws.com/{w.acct}/{w.org}-{app}-jobs
SNS_TOPIC_ARN={w.arn("sns", f"{w.org}-{app}-events")}
KMS_KEY_ID={w.kms_key()}
DATABASE_URL=postgres://app@{db}:5432/{app}?sslmode=verify-full
CLOUDFRONT_DISTRIBUTION_ID={d.plant("cdn", v.distribution_id())}
SENTRY_RELEASE={w.sha()}
BUILD_NUMBER={v.r.randint(1000, 9999)}
"""
    return d


def compose(v: Values, n: int) -> Doc:
    d = Doc(f"docker-compose-{n}")
    w = World(v, d)
    reg = d.plant("ecr", f"{w.acct}.dkr.ecr.{w.region}.amazonaws.com")
    d.text = f"""services:
  api:
    image: {reg}/{w.org}/api:{w.short_sha()}
    ports:
      - "8080:8080"
    environment:
      AWS_REGION: {w.region}
      AWS_ACCESS_KEY_ID: {w.akid()}
      AWS_SECRET_ACCESS_KEY: {w.secret()}
      ASSETS_BUCKET: {w.bucket()}
      TABLE_ARN: {w.arn("dynamodb", f"table/{w.org}-sessions")}
    depends_on:
      - worker
  worker:
    image: {reg}/{w.org}/worker@{w.digest()}
    environment:
      - AWS_REGION={w.region}
      - AWS_PROFILE=default
      - QUEUE_URL=https://sqs.{w.region}.amazonaws.com/{w.acct}/{w.org}-jobs
    volumes:
      - ~/.aws:/root/.aws:ro
  localstack:
    image: localstack/localstack@{w.digest()}
"""
    return d


def k8s_secret(v: Values, n: int) -> Doc:
    d = Doc(f"k8s-secret-{n}")
    w = World(v, d)
    ak = v.access_key_id(w.acct)
    sk = v.secret_key()
    if n == 1:
        d.text = f"""apiVersion: v1
kind: Secret
metadata:
  name: {w.org}-aws-credentials
  namespace: {v.app()}
type: Opaque
data:
  AWS_ACCESS_KEY_ID: {d.plant("enc", b64(ak))}
  AWS_SECRET_ACCESS_KEY: {d.plant("enc", b64(sk))}
  AWS_DEFAULT_REGION: {b64(w.region)}
"""
    elif n == 2:
        creds = f"[default]\naws_access_key_id = {ak}\naws_secret_access_key = {sk}\n"
        d.text = f"""$ kubectl get secret {w.org}-s3-sync -n ops -o yaml
apiVersion: v1
data:
  bucket: {d.plant("enc", b64(v.bucket(w.org)))}
  credentials: {d.plant("enc", b64(creds))}
kind: Secret
metadata:
  creationTimestamp: "{w.ts().replace("+00:00", "Z")}"
  name: {w.org}-s3-sync
  namespace: ops
  resourceVersion: "{v.r.randint(100000, 9999999)}"
  uid: {w.uuid()}
type: Opaque
"""
    else:
        d.text = f"""apiVersion: v1
kind: Secret
metadata:
  name: external-dns-aws
type: Opaque
stringData:
  AWS_ACCESS_KEY_ID: {d.plant("iam", ak)}
  AWS_SECRET_ACCESS_KEY: "{d.plant("secret", sk)}"
  credentials: |
    [default]
    aws_access_key_id = {ak}
    aws_secret_access_key = {sk}
"""
    return d


def k8s_manifests(v: Values, n: int) -> Doc:
    d = Doc(f"k8s-manifests-{n}")
    w = World(v, d)
    app = v.app()
    reg = d.plant("ecr", f"{w.acct}.dkr.ecr.{w.region}.amazonaws.com")
    cert = w.arn("acm", f"certificate/{v.uuid()}")
    d.text = f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: {app}
  annotations:
    eks.amazonaws.com/role-arn: {w.iam_arn(f"role/{w.org}-{app}-irsa")}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  labels:
    app.kubernetes.io/name: {app}
    app.kubernetes.io/version: {w.short_sha()}
spec:
  replicas: 3
  template:
    metadata:
      annotations:
        checksum/config: {d.look("sha256hex", v.sha256())}
    spec:
      serviceAccountName: {app}
      containers:
        - name: {app}
          image: {reg}/{w.org}/{app}@{w.digest()}
          env:
            - name: AWS_REGION
              value: {w.region}
            - name: BUCKET
              value: {w.bucket()}
            - name: KMS_KEY_ARN
              value: {w.arn("kms", f"key/{w.kms_key()}")}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {app}
  annotations:
    alb.ingress.kubernetes.io/scheme: internet-facing
    alb.ingress.kubernetes.io/certificate-arn: {cert}
    alb.ingress.kubernetes.io/subnets: {w.id("subnet")}, {w.id("subnet")}
    alb.ingress.kubernetes.io/security-groups: {w.id("sg")}
    alb.ingress.kubernetes.io/load-balancer-attributes: access_logs.s3.enabled=true,access_logs.s3.bucket={w.bucket()}
spec:
  ingressClassName: alb
"""
    return d


def aws_auth(v: Values, n: int) -> Doc:
    d = Doc(f"k8s-aws-auth-configmap-{n}")
    w = World(v, d)
    d.text = f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
    - rolearn: {w.iam_arn(f"role/{w.org}-eks-node")}
      username: system:node:{{{{EC2PrivateDNSName}}}}
      groups:
        - system:bootstrappers
        - system:nodes
    - rolearn: {w.iam_arn("role/AWSReservedSSO_AdministratorAccess_" + v.hexs(16))}
      username: admin:{{{{SessionName}}}}
      groups:
        - system:masters
  mapUsers: |
    - userarn: {w.iam_arn(f"user/{v.person()}")}
      username: ops
      groups:
        - system:masters
  mapAccounts: |
    - "{d.plant("acct", v.account())}"
"""
    return d


def helm_values(v: Values, n: int) -> Doc:
    d = Doc(f"helm-values-{n}")
    w = World(v, d)
    zone = d.plant("zone", v.zone_id())
    host = v.eks_host(w.region)
    cluster = f"{w.org}-{w.env}"
    d.text = f"""# values-{w.env}.yaml
serviceAccount:
  create: true
  annotations:
    eks.amazonaws.com/role-arn: "{w.iam_arn(f"role/{cluster}-external-dns")}"

externalDns:
  provider: aws
  aws:
    region: {w.region}
    zoneType: public
    assumeRoleArn: {w.arn("iam", "role/route53-writer", region=None, account=d.plant("acct", v.account()))}
  domainFilters: ["{w.org}.example"]
  zoneIdFilters: ["{zone}"]
  txtOwnerId: {cluster}

clusterAutoscaler:
  autoDiscovery:
    clusterName: {cluster}
  awsRegion: {w.region}
  extraArgs:
    aws-use-static-instance-list: false

karpenter:
  settings:
    clusterName: {cluster}
    clusterEndpoint: https://{d.plant("eks", host)}
    interruptionQueue: {cluster}-karpenter
  nodeClass:
    amiSelectorTerms:
      - id: {w.id("ami")}
    subnetSelectorTerms:
      - id: {w.id("subnet")}
    securityGroupSelectorTerms:
      - id: {w.id("sg")}
    instanceProfile: KarpenterNodeInstanceProfile-{cluster}

image:
  repository: {d.plant("ecr", f"{w.acct}.dkr.ecr.{w.region}.amazonaws.com")}/{w.org}/web
  tag: "{w.short_sha()}"
"""
    return d


def kubeconfig(v: Values, n: int) -> Doc:
    d = Doc(f"kubeconfig-eks-{n}")
    w = World(v, d)
    name = f"{w.org}-{w.env}"
    arn = w.arn("eks", f"cluster/{name}")
    ca = d.look(
        "b64", base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgII" + v.randbytes(300)).decode()
    )
    d.text = f"""apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {ca}
    server: https://{d.plant("eks", v.eks_host(w.region))}
  name: {arn}
contexts:
- context:
    cluster: {arn}
    user: {arn}
  name: {arn}
current-context: {arn}
kind: Config
preferences: {{}}
users:
- name: {arn}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - --region
      - {w.region}
      - eks
      - get-token
      - --cluster-name
      - {name}
      - --output
      - json
      - --role-arn
      - {w.iam_arn(f"role/{name}-admin")}
      command: aws
"""
    return d


def kubectl_output(v: Values, n: int) -> Doc:
    d = Doc(f"kubectl-get-describe-{n}")
    w = World(v, d)
    app = v.app()
    pods = [d.look("pod", v.pod(app)) for _ in range(3)]
    nodes = [f"ip-{v.private_ip().replace('.', '-')}.{w.region}.compute.internal" for _ in range(2)]
    iid = w.id("i", "ec2")
    rows = "\n".join(f"{p:<36}1/1     Running   {v.r.randint(0, 3)}          {v.r.randint(1, 20)}d" for p in pods)
    d.text = f"""$ kubectl get pods -n {app}
NAME                                  READY   STATUS    RESTARTS   AGE
{rows}
$ kubectl describe node {nodes[0]} | grep -E 'ProviderID|instance-type|zone'
                    node.kubernetes.io/instance-type=m6i.large
                    topology.kubernetes.io/zone={w.az()}
ProviderID:                   aws:///{w.az()}/{iid}
$ kubectl logs {pods[0]} -n {app} --tail=3
time="{w.ts()}" level=info msg="assumed role" arn="{w.arn("sts", f"assumed-role/{w.org}-{app}-irsa/{v.r.randint(1700000000000000000, 1799999999999999999)}", region=None)}"
time="{w.ts()}" level=info msg="processed batch" order={w.num12()} count=118
time="{w.ts()}" level=error msg="put failed" bucket={w.bucket()} err="AccessDenied"
"""
    return d


def gha(v: Values, n: int) -> Doc:
    d = Doc(f"github-actions-workflow-{n}")
    w = World(v, d)
    checkout, creds = w.sha(), w.sha()
    if n == 1:
        login = w.sha()
        reg = d.plant("ecr", f"{w.acct}.dkr.ecr.{w.region}.amazonaws.com")
        d.text = f"""name: deploy
on:
  push:
    branches: [main]
permissions:
  id-token: write
  contents: read
env:
  AWS_REGION: {w.region}
  ECR_REGISTRY: {reg}
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{checkout} # v4.1.7
      - uses: aws-actions/configure-aws-credentials@{creds} # v4.0.2
        with:
          role-to-assume: {w.iam_arn(f"role/{w.org}-gha-deploy")}
          aws-region: ${{{{ env.AWS_REGION }}}}
      - uses: aws-actions/amazon-ecr-login@{login} # v2
      - run: |
          docker build -t $ECR_REGISTRY/{w.org}/web:${{{{ github.sha }}}} .
          docker push $ECR_REGISTRY/{w.org}/web:${{{{ github.sha }}}}
      - run: aws s3 sync dist/ s3://{w.bucket()}/ --delete
      - run: aws cloudfront create-invalidation --distribution-id {d.plant("cdn", v.distribution_id())} --paths '/*'
"""
    else:
        d.text = f"""name: nightly-export
on:
  schedule:
    - cron: "0 18 * * *"
jobs:
  export:
    runs-on: ubuntu-latest
    env:
      AWS_ACCESS_KEY_ID: {w.akid()}
      AWS_SECRET_ACCESS_KEY: {w.secret()}
      AWS_DEFAULT_REGION: {w.region}
    steps:
      - uses: actions/checkout@{checkout}
      - uses: actions/setup-python@{creds}
        with:
          python-version: "3.12"
      - run: pip install --require-hashes -r requirements.txt
      - run: python export.py --bucket {w.bucket()} --account {w.acct}
"""
    return d


def oidc_jwks(v: Values, n: int) -> Doc:
    """EKS's OIDC discovery: the issuer names the cluster; the key ID (40 hex) and modulus are public."""
    d = Doc(f"eks-oidc-jwks-{n}")
    w = World(v, d)
    cid = d.plant("eks", v.chars("0123456789ABCDEF", 32))
    kid = d.look("gitsha", v.hexs(40))
    modulus = d.look("b64", v.b64url(256))
    issuer = f"https://oidc.eks.{w.region}.amazonaws.com/id/{cid}"
    d.text = f"""$ curl -s {issuer}/keys
{{"keys":[{{"kty":"RSA","e":"AQAB","use":"sig","kid":"{kid}","alg":"RS256","n":"{modulus}"}}]}}
$ aws iam list-open-id-connect-providers --output text
OPENIDCONNECTPROVIDERLIST	{w.iam_arn(f"oidc-provider/oidc.eks.{w.region}.amazonaws.com/id/{cid}")}
$ kubectl exec deploy/api -- cat /var/run/secrets/eks.amazonaws.com/serviceaccount/token | cut -d. -f1
{d.look("b64", "eyJhbGciOiJSUzI1NiIsImtpZCI6I" + v.b64url(48))}
"""
    return d


def build(v: Values) -> list[Doc]:
    docs: list[Doc] = []
    for k in (1, 2):
        docs += [dotenv(v, k), compose(v, k), k8s_manifests(v, k), helm_values(v, k), gha(v, k)]
    docs += [k8s_secret(v, k) for k in (1, 2, 3)]
    docs += [aws_auth(v, 1), kubeconfig(v, 1), kubectl_output(v, 1), kubectl_output(v, 2), oidc_jwks(v, 1)]
    return docs
