#!/usr/bin/env bash
# Build the one Lambda image, push it to ECR, then `sam build` and `sam deploy` the stack.
# Usage: infra/deploy.sh dev|prod   (needs docker, the AWS CLI v2, the SAM CLI and AWS credentials)
# Optional: ARCH=arm64|x86_64 (default arm64, as the template), EXTRA_PARAMS="CorsAllowedOrigins=https://app.example.com ...",
# CFN_EXECUTION_ROLE_ARN (the role CloudFormation acts as) and ARTIFACT_BUCKET (infra/pipeline.yaml's outputs),
# SAM_DEPLOY_ARGS (more sam deploy flags).
set -euo pipefail
cd "$(dirname "$0")/.."

STAGE="${1:?usage: infra/deploy.sh dev|prod}"
case "$STAGE" in dev|prod) ;; *) echo "STAGE must be dev or prod" >&2; exit 2 ;; esac
SERVICE="${SERVICE:-order-service}"
ARCH="${ARCH:-arm64}"
PLATFORM=$([ "$ARCH" = arm64 ] && echo linux/arm64 || echo linux/amd64)
ACCOUNT=$(aws sts get-caller-identity --query Account --output text)
REGION=$(aws configure get region || echo "${AWS_REGION:?set AWS_REGION}")
REGISTRY="$ACCOUNT.dkr.ecr.$REGION.amazonaws.com"
TAG="$(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD || echo -dirty)"
IMAGE="$REGISTRY/$SERVICE:$TAG"

aws ecr describe-repositories --repository-names "$SERVICE" >/dev/null 2>&1 ||
  aws ecr create-repository --repository-name "$SERVICE" \
    --image-scanning-configuration scanOnPush=true --image-tag-mutability IMMUTABLE >/dev/null
aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "$REGISTRY"
if ! aws ecr describe-images --repository-name "$SERVICE" --image-ids imageTag="$TAG" >/dev/null 2>&1; then
  docker build --platform "$PLATFORM" --provenance=false -t "$IMAGE" .
  docker push "$IMAGE"
fi

sam build --config-env "$STAGE"
ROLE_ARGS=()
[ -n "${CFN_EXECUTION_ROLE_ARN:-}" ] && ROLE_ARGS=(--role-arn "$CFN_EXECUTION_ROLE_ARN")
# The template is over CloudFormation's 51,200-byte inline limit, so SAM uploads it (and the workflow's
# definition) first: to ARTIFACT_BUCKET when given (the pipeline's, infra/pipeline.yaml), else SAM's own bucket.
S3_ARGS=(--resolve-s3)
[ -n "${ARTIFACT_BUCKET:-}" ] && S3_ARGS=(--s3-bucket "$ARTIFACT_BUCKET")
# shellcheck disable=SC2086  # EXTRA_PARAMS and SAM_DEPLOY_ARGS are lists of words
sam deploy --config-env "$STAGE" --region "$REGION" "${ROLE_ARGS[@]}" "${S3_ARGS[@]}" ${SAM_DEPLOY_ARGS:-} \
  --parameter-overrides "Service=$SERVICE" "Stage=$STAGE" "ImageUri=$IMAGE" "Architecture=$ARCH" ${EXTRA_PARAMS:-}
