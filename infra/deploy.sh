#!/usr/bin/env bash
# Build the one Lambda image, push it to ECR, then `sam build` and `sam deploy` the stack.
# Usage: infra/deploy.sh dev|prod   (needs docker, the AWS CLI v2, the SAM CLI and AWS credentials)
# Optional: ARCH=arm64|x86_64 (default arm64, as the template), EXTRA_PARAMS="CorsAllowedOrigins=https://app.example.com ..."
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
# shellcheck disable=SC2086  # EXTRA_PARAMS is a list of Key=Value words
sam deploy --config-env "$STAGE" --region "$REGION" \
  --parameter-overrides "Service=$SERVICE" "Stage=$STAGE" "ImageUri=$IMAGE" "Architecture=$ARCH" ${EXTRA_PARAMS:-}
