# The one Lambda image of order-service: every function of infra/template.yaml runs it and
# chooses its handler with ImageConfig.Command. Build: `make deploy` (sam build) or
#   docker build --platform linux/arm64 -t order-service .   (arm64: the template's Architecture and infra/deploy.sh)
FROM public.ecr.aws/lambda/python:3.12

# Runtime dependencies only, pinned with hashes from uv.lock (`make requirements` regenerates
# the file; tests/infra/test_requirements.py fails when it drifts). Wheels only: the base image
# has no compiler, and a source build would not be the artifact the lock describes.
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --disable-pip-version-check --require-hashes --only-binary=:all: \
        --target "${LAMBDA_TASK_ROOT}" -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code: the app and the workers, nothing else (no tests, no infra tooling).
COPY app/ ${LAMBDA_TASK_ROOT}/app/
COPY workers/ ${LAMBDA_TASK_ROOT}/workers/

# Lambda's file system is read-only: compile now, or every cold start compiles in memory.
# unchecked-hash: the sources never change inside the image, so skip the mtime checks.
RUN python -m compileall -q -j 0 --invalidation-mode unchecked-hash "${LAMBDA_TASK_ROOT}"

# The API; every other function overrides it with ImageConfig.Command.
CMD ["app.lambda_handler.handler"]
