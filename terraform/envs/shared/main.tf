# The persistent shared environment: modules/stack, as terraform/env uses it, with what
# differs for an environment a team keeps running for days:
# - PostgreSQL and Redis keep their data in named volumes owned HERE, with prevent_destroy: a
#   plan that would destroy them fails instead (README.md says how to really remove them).
#   They live in this root, not in the stack, because prevent_destroy must be a literal per
#   resource: a module serving both roots could not protect them for one and not the other.
#   They ignore label changes: the provider cannot relabel a volume (labels force a new one),
#   and a new owner or extra label must never cost the data.
# - PostgreSQL runs with fsync on (durable); Redis appends every write to its AOF.
# - Fixed host ports from shared.tfvars, bound to 127.0.0.1 unless bind_address says otherwise.
# - Restart policies bring the services back after a Docker restart; the apply waits for
#   PostgreSQL, Redis and the DS to be healthy (unless wait_for_healthchecks is false, as
#   on Podman); slower health checks.
# - A change to DS settings (log level, image, extra env) replaces only the DS container: the
#   preflight job, whose config would be replaced with it, is off here.

module "stack" {
  source = "../../modules/stack"

  name_prefix = var.name_prefix
  owner       = var.owner
  created     = var.created
  labels      = merge(var.labels, { "dsenv.kind" = "shared" }) # dsenv status shows the kind
  persistent  = true

  postgres_image    = var.postgres_image
  redis_image       = var.redis_image
  datastorage_image = var.datastorage_image
  migrate_image     = var.migrate_image
  pull_images       = var.pull_images

  postgres_password = var.postgres_password
  redis_password    = var.redis_password
  api_token         = var.api_token
  api_token_name    = "shared"
  postgres_user     = var.postgres_user
  postgres_db       = var.postgres_db

  postgres_durable     = true
  redis_durable        = true
  postgres_volume_name = docker_volume.postgres_data.name
  redis_volume_name    = docker_volume.redis_data.name

  bind_address                  = var.bind_address
  postgres_host_port            = var.postgres_host_port
  redis_host_port               = var.redis_host_port
  datastorage_host_port         = var.datastorage_host_port
  datastorage_health_host_port  = var.datastorage_health_host_port
  datastorage_metrics_host_port = var.datastorage_metrics_host_port

  restart_policy                   = var.restart_policy
  data_store_wait                  = var.wait_for_healthchecks
  datastorage_wait                 = var.wait_for_healthchecks # false on Podman without systemd
  data_store_healthcheck_interval  = var.healthcheck_interval
  datastorage_healthcheck_interval = var.healthcheck_interval
  wait_for_database                = "60s"
  job_logs                         = var.job_logs

  log_level              = var.log_level
  datastorage_extra_env  = var.datastorage_extra_env
  datastorage_mounts     = var.datastorage_mounts
  datastorage_file_owner = var.datastorage_file_owner
  datastorage_preflight  = false
  migrations_dir         = var.migrations_dir
  # The auth stand-in and the signing pair: what the real DS needs (see variables.tf).
  auth_standin_image = var.auth_standin_image
  denied_token       = var.denied_token
  signer_cert_pem    = var.signer_cert_pem
  signer_key_pem     = var.signer_key_pem
  # Slower than the test settings: the DS starts after PostgreSQL and Redis are healthy.
  connect_attempts = 10
  connect_interval = "2s"
}

resource "docker_volume" "postgres_data" {
  name = "${var.name_prefix}-postgres-data"

  dynamic "labels" {
    for_each = module.stack.labels
    content {
      label = labels.key
      value = labels.value
    }
  }

  lifecycle {
    prevent_destroy = true
    ignore_changes  = [labels]
  }
}

resource "docker_volume" "redis_data" {
  name = "${var.name_prefix}-redis-data"

  dynamic "labels" {
    for_each = module.stack.labels
    content {
      label = labels.key
      value = labels.value
    }
  }

  lifecycle {
    prevent_destroy = true
    ignore_changes  = [labels]
  }
}

# Where the resources lived before modules/stack: the environment's state moves to the new
# addresses with nothing destroyed or replaced (the volumes stay where they were).
moved {
  from = module.network
  to   = module.stack.module.network[0]
}

moved {
  from = module.postgres
  to   = module.stack.module.postgres
}

moved {
  from = module.redis
  to   = module.stack.module.redis
}

moved {
  from = module.migrate
  to   = module.stack.module.migrate
}

moved {
  from = module.datastorage
  to   = module.stack.module.datastorage
}
