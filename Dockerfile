# The daily health check as a Cloud Run job (see docs/deploy.md: Daily schedule). Build and push:
#   docker build -t "$REGION-docker.pkg.dev/$PROJECT/tools/feature-store-health:latest" .
# The job adds its own arguments: --project=…, --reports-dir=/reports (a mounted bucket), and
# --health-config=… for your production configuration (partition_expiration_days = 30).
FROM python:3.11-slim
WORKDIR /app
COPY . .
# not editable: the image runs the installed package, as tools/check-wheel does in CI
RUN pip install --no-cache-dir '.[bigquery]'
ENTRYPOINT ["pytest", "data_tests", "--backend=bigquery"]
