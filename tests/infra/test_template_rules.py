"""Hardening rules that hold for EVERY resource of a type in infra/template.yaml (new ones included)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.local.template import Stack
from infra.validate import translated
from tests.support.template_walk import alarms_on, of_type, props, refs, stack, template, walk

FUNCTION = "AWS::Serverless::Function"
STATE_MACHINE = "AWS::Serverless::StateMachine"
NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SecretsManager::Secret": "Name",
    FUNCTION: "FunctionName",
    STATE_MACHINE: "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::S3::Bucket": "BucketName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::Serverless::HttpApi": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
}
NAME = re.compile(r"^(/aws/[a-z/-]+/)?\$\{Service\}-[a-z0-9-]+(-\$\{AWS::(AccountId|Region)\})?-\$\{Stage\}$")
TPL = template()


def _sub_text(value: Any) -> str:
    if isinstance(value, dict) and "Fn::Sub" in value:
        inner = value["Fn::Sub"]
        return str(inner if isinstance(inner, str) else inner[0])
    return repr(value)


def _alarm_topic(alarm: dict[str, Any]) -> bool:
    return "AlarmTopic" in refs(alarm.get("AlarmActions", []))


def test_every_named_resource_follows_service_name_stage() -> None:
    checked = 0
    for logical, resource in TPL["Resources"].items():
        prop = NAME_PROPERTY.get(resource["Type"])
        if prop is None:
            continue
        checked += 1
        name = _sub_text(props(resource).get(prop))
        assert NAME.match(name), f"{logical}.{prop} must be !Sub '${{Service}}-<name>-${{Stage}}', got {name}"
    assert checked >= 8


def test_physical_names_are_unique_per_type() -> None:
    s = stack()
    names = [(r["Type"], s.name(k)) for k, r in TPL["Resources"].items() if r["Type"] in NAME_PROPERTY]
    assert len(names) == len(set(names))


def test_globals_trace_and_configure_powertools() -> None:
    function = TPL["Globals"]["Function"]
    assert function["Tracing"] == {"Ref": "TracingMode"}
    assert TPL["Parameters"]["TracingMode"]["Default"] == "PassThrough"  # the bill's floor: docs/performance.md
    variables = function["Environment"]["Variables"]
    assert not [v for v in variables if "TRACE" in v]  # nothing traces inside a function (decision 0013)
    assert variables["POWERTOOLS_SERVICE_NAME"] == {"Ref": "Service"}
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "Service"}
    assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_vpc_is_used_only_when_subnets_are_given() -> None:
    params = TPL["Parameters"]
    for name in ("SubnetIds", "SecurityGroupIds"):
        assert params[name]["Type"] == "CommaDelimitedList"
        assert params[name]["Default"] == ""
    condition, with_vpc, without = TPL["Globals"]["Function"]["VpcConfig"]["Fn::If"]
    assert condition == "HasVpc"
    assert with_vpc == {"SubnetIds": {"Ref": "SubnetIds"}, "SecurityGroupIds": {"Ref": "SecurityGroupIds"}}
    assert without == {"Ref": "AWS::NoValue"}
    assert stack().condition("HasVpc") is False
    with_subnets = stack()
    with_subnets.overrides["SubnetIds"] = ["subnet-1"]  # type: ignore[assignment]
    assert with_subnets.condition("HasVpc") is True


@pytest.mark.parametrize("logical", sorted(of_type(TPL, FUNCTION)))
def test_every_function_runs_the_one_image_with_its_own_handler(logical: str) -> None:
    p = props(TPL["Resources"][logical])
    assert p["PackageType"] == "Image"
    assert p["ImageUri"] == {"Ref": "ImageUri"}
    command = p["ImageConfig"]["Command"]
    assert len(command) == 1
    assert re.fullmatch(r"(app|workers)(\.[a-z_][a-z0-9_]*)+", command[0]), command
    assert "Role" not in p, "let SAM build a role from Policies so the least-privilege test sees it"


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    docs = [p["PolicyDocument"] for p in role["Properties"].get("Policies", [])]
    return [s for d in docs for s in (d["Statement"] if isinstance(d["Statement"], list) else [d["Statement"]])]


# Actions that have no resource-level permissions: "*" is the only resource IAM accepts.
ACCOUNT_LEVEL_ACTIONS = {"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"}
ACCOUNT_LEVEL_ACTIONS |= {"cloudwatch:PutMetricData", "dynamodb:ListTables", "sqs:ListQueues"}
ACCOUNT_LEVEL_ACTIONS |= {f"logs:{a}LogDelivery" for a in ("Create", "Get", "Update", "Delete")}
ACCOUNT_LEVEL_ACTIONS |= {"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies"}
ACCOUNT_LEVEL_ACTIONS |= {"logs:DescribeLogGroups"}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_translated_roles_name_actions_and_resources_explicitly(stage: str) -> None:
    cfn = translated(stage)
    roles = {k: v for k, v in cfn["Resources"].items() if v["Type"] == "AWS::IAM::Role"}
    assert roles
    for logical, role in roles.items():
        for statement in _statements(role):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert all(a != "*" and not a.endswith(":*") for a in actions), (logical, actions)
            if "*" in resources:
                assert set(actions) <= ACCOUNT_LEVEL_ACTIONS, (logical, actions)


@pytest.mark.parametrize(("stage", "key"), [("dev", "AWS_OWNED"), ("prod", "AWS_MANAGED")])
def test_every_table_is_on_demand_encrypted_recoverable_and_protected_in_prod(stage: str, key: str) -> None:
    s = stack(stage)
    s.overrides["TableKey"] = key
    tables = of_type(TPL, "AWS::DynamoDB::Table")
    assert tables
    for logical, resource in tables.items():
        p = s.resolve(props(resource))
        assert p["BillingMode"] == "PAY_PER_REQUEST", logical
        # Encrypted either way: false is DynamoDB's AWS owned key, true the AWS managed key (aws/dynamodb).
        assert p["SSESpecification"]["SSEEnabled"] is (key == "AWS_MANAGED"), logical
        assert p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, logical
        assert p["DeletionProtectionEnabled"] is (stage == "prod"), logical


def test_every_queue_is_encrypted_and_denies_insecure_transport() -> None:
    queues = of_type(TPL, "AWS::SQS::Queue")
    policies = of_type(TPL, "AWS::SQS::QueuePolicy")
    assert queues
    for logical, resource in queues.items():
        p = props(resource)
        assert p.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in p, logical
        covering = [q for q in policies.values() if {"Ref": logical} in props(q)["Queues"]]
        assert len(covering) == 1, f"{logical} needs exactly one QueuePolicy (a second one replaces the first)"
        denies = [
            st
            for st in props(covering[0])["PolicyDocument"]["Statement"]
            if st["Effect"] == "Deny"
            and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            and logical in refs(st["Resource"])
        ]
        assert denies, f"{logical}: the queue policy must deny requests without aws:SecureTransport"


def test_every_topic_is_kms_encrypted() -> None:
    topics = of_type(TPL, "AWS::SNS::Topic")
    assert topics
    for logical, resource in topics.items():
        assert props(resource).get("KmsMasterKeyId"), logical


def _dead_letter_queues() -> set[str]:
    queues = set(of_type(TPL, "AWS::SQS::Queue"))
    found: set[str] = set()
    for key, value in walk(TPL["Resources"]):
        if "deadletter" in key.lower():
            found |= refs(value) & queues
    return found


def test_every_dead_letter_queue_alarms_when_not_empty() -> None:
    dlqs = _dead_letter_queues()
    assert "OrderDeadLetterQueue" in dlqs
    for logical in dlqs:
        alarms = alarms_on(TPL, "AWS/SQS", "ApproximateNumberOfMessagesVisible", logical)
        assert alarms, f"{logical} has no depth alarm"
        alarm = alarms[0]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold"), logical
        assert _alarm_topic(alarm), logical


def test_every_function_alarms_on_errors() -> None:
    for logical in of_type(TPL, FUNCTION):
        alarms = alarms_on(TPL, "AWS/Lambda", "Errors", logical)
        assert alarms, f"{logical} has no Errors alarm"
        assert all(_alarm_topic(a) for a in alarms), f"{logical}: alarms must notify the AlarmTopic"


def test_every_state_machine_logs_traces_substitutes_and_alarms() -> None:
    for logical, resource in of_type(TPL, STATE_MACHINE).items():
        p = props(resource)
        assert p["Tracing"] == {"Enabled": {"Fn::If": ["IsTraced", True, False]}}, logical
        assert p["Logging"]["Level"] in ("ALL", "ERROR"), logical
        assert p["Logging"]["Destinations"], logical
        assert "DefinitionUri" in p, logical
        assert p.get("DefinitionSubstitutions"), logical
        alarms = alarms_on(TPL, "AWS/States", "ExecutionsFailed", logical)
        assert alarms, f"{logical} has no ExecutionsFailed alarm"
        assert all(_alarm_topic(a) for a in alarms), f"{logical}: alarms must notify the AlarmTopic"


def test_every_http_api_has_cors_access_logs_throttling_and_a_5xx_alarm() -> None:
    apis = of_type(TPL, "AWS::Serverless::HttpApi")
    assert apis
    for logical, resource in apis.items():
        p = props(resource)
        assert p["CorsConfiguration"]["AllowOrigins"] == {"Ref": "CorsAllowedOrigins"}
        destination = refs(p["AccessLogSettings"]["DestinationArn"])
        assert destination
        assert all(TPL["Resources"][d]["Type"] == "AWS::Logs::LogGroup" for d in destination)
        assert p["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurst"}
        assert p["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRate"}
        alarms = alarms_on(TPL, "AWS/ApiGateway", "5xx", logical)
        assert alarms, f"{logical} has no 5xx alarm"
        assert all(_alarm_topic(a) for a in alarms), f"{logical}: alarms must notify the AlarmTopic"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ({}, (100, 200, 10, None)),  # a normal day: the defaults
        (  # the sale of docs/scale.md
            {
                "ApiThrottleRate": "6000",
                "ApiThrottleBurst": "5000",
                "OrderQueueConcurrency": "200",
                "OrderConsumerReservedConcurrency": "250",
            },
            (6000, 5000, 200, 250),
        ),
    ],
)
def test_the_limits_a_sale_raises_are_parameters(day: dict[str, str], expected: tuple[Any, ...]) -> None:
    bound = Stack(TPL, "http://127.0.0.1", overrides={"Stage": "prod", **day})
    route = bound.resolve(props(TPL["Resources"]["HttpApi"])["DefaultRouteSettings"])
    consumer = props(TPL["Resources"]["ProcessOrderFunction"])
    scaling = bound.resolve(consumer["Events"]["OrderQueue"]["Properties"]["ScalingConfig"])
    reserved = bound.resolve({"r": consumer["ReservedConcurrentExecutions"]}).get("r")
    got = (route["ThrottlingRateLimit"], route["ThrottlingBurstLimit"], scaling["MaximumConcurrency"], reserved)
    assert tuple(int(v) if v is not None else None for v in got) == expected


def test_the_event_source_carries_its_maximum_concurrency_through_the_translation() -> None:
    mappings = of_type(translated("prod"), "AWS::Lambda::EventSourceMapping")
    order_queue = [m for m in mappings.values() if "OrderQueue" in str(props(m)["EventSourceArn"])]
    assert [props(m)["ScalingConfig"] for m in order_queue] == [
        {"MaximumConcurrency": {"Ref": "OrderQueueConcurrency"}}
    ]


def test_every_log_group_expires() -> None:
    groups = of_type(TPL, "AWS::Logs::LogGroup")
    assert groups
    for logical, resource in groups.items():
        assert props(resource)["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical


@pytest.mark.parametrize("provisioned", [0, 3])
def test_the_api_uses_snapstart_unless_provisioned_concurrency_is_asked_for(provisioned: int) -> None:
    # The two cannot be combined on one version: exactly one of them is on.
    api = [
        k
        for k, r in of_type(TPL, FUNCTION).items()
        if props(r)["ImageConfig"]["Command"] == ["app.lambda_handler.handler"]
    ]
    assert api == ["ApiFunction"]
    bound = Stack(TPL, "http://127.0.0.1", overrides={"Stage": "prod", "ApiProvisionedConcurrency": str(provisioned)})
    p = bound.resolve(props(TPL["Resources"]["ApiFunction"]))
    assert p["AutoPublishAlias"]
    config = p.get("ProvisionedConcurrencyConfig")
    assert (config is not None) is (provisioned > 0)
    assert (p.get("SnapStart") == {"ApplyOn": "PublishedVersions"}) is (provisioned == 0)
    authorizer = props(TPL["Resources"]["AuthorizerFunction"])
    assert authorizer["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert authorizer["AutoPublishAlias"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_only_the_http_api_may_invoke_the_api_function_which_trusts_its_authorizer(stage: str) -> None:
    # The API uses requestContext.authorizer as the caller (decision 0007): that is safe only while nothing but
    # this HTTP API, whose routes run BearerAuthorizer, can invoke the function.
    resources = translated(stage)["Resources"]
    api_targets = {"ApiFunction", "ApiFunctionAliaslive"}
    grants = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Permission" and refs(r["Properties"]["FunctionName"]) & api_targets
    ]
    assert grants
    for grant in grants:
        assert grant["Principal"] == "apigateway.amazonaws.com", grant
        source = grant["SourceArn"]["Fn::Sub"]
        assert source[0].startswith("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/")
        assert source[1]["__ApiId__"] == {"Ref": "HttpApi"}
    for resource in resources.values():
        if resource["Type"] == "AWS::Lambda::Url":
            assert not refs(resource["Properties"]) & api_targets
    env = props(TPL["Resources"]["ApiFunction"])["Environment"]["Variables"]
    assert env["TRUST_GATEWAY_AUTHORIZER"] == "true"
    assert props(TPL["Resources"]["HttpApi"])["Auth"]["DefaultAuthorizer"] == "BearerAuthorizer"
    # Every route without the authorizer is one that needs no caller.
    for event in props(TPL["Resources"]["ApiFunction"])["Events"].values():
        if event["Properties"].get("Auth", {}).get("Authorizer") == "NONE":
            assert event["Properties"]["Path"] in {"/health", "/docs", "/openapi.json", "/redoc"} or event[
                "Properties"
            ]["Path"].startswith("/static-offline-docs/")


def test_sqs_event_sources_leave_the_function_time_to_finish() -> None:
    default_timeout = TPL["Globals"]["Function"]["Timeout"]
    for logical, resource in of_type(TPL, FUNCTION).items():
        p = props(resource)
        for event in p.get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            (queue,) = refs(event["Properties"]["Queue"])
            visibility = props(TPL["Resources"][queue]).get("VisibilityTimeout", 30)
            # AWS's advice: at least six times the function timeout, so retries do not overlap.
            assert visibility >= 6 * p.get("Timeout", default_timeout), (logical, queue)


def test_outputs_give_the_api_url_every_table_name_and_queue_url() -> None:
    outputs = {k: v["Value"] for k, v in TPL["Outputs"].items()}
    assert "HttpApi" in refs(outputs["ApiUrl"])
    referenced = {
        ref for value in outputs.values() if isinstance(value, dict) and "Ref" in value for ref in [value["Ref"]]
    }
    for kind in ("AWS::DynamoDB::Table", "AWS::SQS::Queue"):
        missing = set(of_type(TPL, kind)) - referenced
        assert not missing, f"no output gives {sorted(missing)}"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_sam_translation_succeeds(stage: str) -> None:
    cfn = translated(stage)
    functions = {k for k, v in cfn["Resources"].items() if v["Type"] == "AWS::Lambda::Function"}
    assert functions == set(of_type(TPL, FUNCTION))
    assert not [k for k, v in cfn["Resources"].items() if v["Type"].startswith("AWS::Serverless::")]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_function_logs_json_to_its_own_log_group_with_the_stages_retention(stage: str) -> None:
    resources = translated(stage)["Resources"]
    functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"}
    assert len(functions) == 16
    for logical, function in functions.items():
        config = function["Properties"]["LoggingConfig"]
        assert config["LogFormat"] == "JSON", logical
        assert config["ApplicationLogLevel"] == {"Ref": "LogLevel"}, logical
        assert config["SystemLogLevel"] == {"Ref": "SystemLogLevel"}, logical
        group = resources[config["LogGroup"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup"
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        # Lambda's own name for it: without the declared group it would create this one, never expiring.
        name = function["Properties"]["FunctionName"]["Fn::Sub"]
        assert group["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{name}"}, logical


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_live_aliases_shift_through_codedeploy_and_roll_back_on_the_alarms(stage: str) -> None:
    cfn = translated(stage)
    applications = of_type(cfn, "AWS::CodeDeploy::Application")
    groups = of_type(cfn, "AWS::CodeDeploy::DeploymentGroup")
    assert len(applications) == 1
    assert len(groups) == 2
    expected = {
        "ApiFunction": {"ApiFunctionErrorsAlarm", "Api5xxAlarm"},
        "AuthorizerFunction": {"AuthorizerFunctionErrorsAlarm", "Api5xxAlarm"},
    }
    for function, alarms in expected.items():
        group = groups[f"{function}DeploymentGroup"]["Properties"]
        assert group["ApplicationName"] == {"Ref": next(iter(applications))}
        # SAM resolves the DeploymentType parameter to its value (here the default): canary, 10% for 5 minutes.
        config_name = group["DeploymentConfigName"]["Fn::Sub"]
        assert config_name == ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": "Canary10Percent5Minutes"}]
        config = group["AlarmConfiguration"]
        assert config["Enabled"] is True
        assert {a["Name"]["Ref"] for a in config["Alarms"]} == alarms
        assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
        # The alias moves only through the deployment group: CloudFormation hands the shift to CodeDeploy.
        alias = next(
            r
            for r in of_type(cfn, "AWS::Lambda::Alias").values()
            if r["Properties"]["FunctionName"] == {"Ref": function}
        )
        hook = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        assert hook["DeploymentGroupName"] == {"Ref": f"{function}DeploymentGroup"}


def test_cognito_mode_creates_its_user_pool_unless_an_issuer_is_given() -> None:
    own = stack()
    own.overrides["AuthMode"] = "cognito"
    assert own.condition("CreatesUserPool") is True
    assert (
        TPL["Resources"]["UserPool"]["Condition"]
        == TPL["Resources"]["UserPoolClient"]["Condition"]
        == "CreatesUserPool"
    )
    for function in ("ApiFunction", "AuthorizerFunction"):
        variables = props(TPL["Resources"][function])["Environment"]["Variables"]
        issuer = variables["JWT_ISSUER"]
        assert issuer["Fn::If"][0] == "IsCognito"
        assert issuer["Fn::If"][1]["Fn::If"][0] == "CreatesUserPool"
        assert "${UserPool}" in issuer["Fn::If"][1]["Fn::If"][1]["Fn::Sub"]
        assert variables["JWT_AUDIENCE"]["Fn::If"][1]["Fn::If"][1] == {"Ref": "UserPoolClient"}
    external = stack()
    external.overrides |= {
        "AuthMode": "cognito",
        "JwtIssuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x",
    }
    assert external.condition("CreatesUserPool") is False
    assert stack().condition("CreatesUserPool") is False  # secret mode: no pool


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_user_pool_takes_passwords_over_the_wire_only_outside_prod(stage: str) -> None:
    s = stack(stage)
    s.overrides["AuthMode"] = "cognito"
    flows = s.resolve(props(TPL["Resources"]["UserPoolClient"])["ExplicitAuthFlows"])
    assert ("ALLOW_USER_PASSWORD_AUTH" in flows) is (stage == "dev")
    assert s.resolve(props(TPL["Resources"]["UserPool"])["DeletionProtection"]) == (
        "ACTIVE" if stage == "prod" else "INACTIVE"
    )
