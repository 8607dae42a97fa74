# The persistent shared environment: the same modules as terraform/env, with durable settings.
# - PostgreSQL and Redis keep their data in named volumes owned here, with prevent_destroy:
#   a plan that would destroy them fails instead (README.md says how to really remove them).
# - PostgreSQL runs with fsync on (durable = true); Redis appends every write to its AOF.
# - Fixed host ports from shared.tfvars, bound to 127.0.0.1 unless bind_address says otherwise.
# - Restart policies bring the services back after a Docker restart.
# - A change to DS settings (log level, image, extra env) replaces only the DS container: the
#   preflight job, whose config would be replaced with it, is off here.

locals {
  labels = merge(var.labels, {
    "dsenv.env"        = var.name_prefix
    "dsenv.owner"      = var.owner
    "dsenv.created"    = var.created
    "dsenv.persistent" = "true"
    "dsenv.kind"       = "shared" # added with dsenv status, before the stack module
  })
}

module "network" {
  source = "../../modules/network"

  name   = "${var.name_prefix}-net"
  labels = local.labels
}

resource "docker_volume" "postgres_data" {
  name = "${var.name_prefix}-postgres-data"

  dynamic "labels" {
    for_each = local.labels
    content {
      label = labels.key
      value = labels.value
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "docker_volume" "redis_data" {
  name = "${var.name_prefix}-redis-data"

  dynamic "labels" {
    for_each = local.labels
    content {
      label = labels.key
      value = labels.value
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}

module "postgres" {
  source = "../../modules/postgres"

  name         = "${var.name_prefix}-postgres"
  network_name = module.network.name
  image        = var.postgres_image
  pull_image   = var.pull_images
  user         = var.postgres_user
  password     = var.postgres_password
  db           = var.postgres_db
  bind_address = var.bind_address
  host_port    = var.postgres_host_port
  durable      = true
  volume_name  = docker_volume.postgres_data.name
  restart      = var.restart_policy
  # The apply waits until it answers: the migration job and the DS start after it.
  wait                 = true
  healthcheck_interval = var.healthcheck_interval
  labels               = local.labels
}

module "redis" {
  source = "../../modules/redis"

  name         = "${var.name_prefix}-redis"
  network_name = module.network.name
  image        = var.redis_image
  pull_image   = var.pull_images
  password     = var.redis_password
  bind_address = var.bind_address
  host_port    = var.redis_host_port
  durable      = true
  volume_name  = docker_volume.redis_data.name
  restart      = var.restart_policy
  # The apply waits until it answers: the migration job and the DS start after it.
  wait                 = true
  healthcheck_interval = var.healthcheck_interval
  labels               = local.labels
}

module "migrate" {
  source = "../../modules/migrate"

  name         = "${var.name_prefix}-migrate"
  network_name = module.network.name
  image        = var.migrate_image
  pull_image   = var.pull_images
  dsn          = module.postgres.dsn_internal
  labels       = local.labels
  # Runs again whenever PostgreSQL is replaced (new image, new settings); the data stays.
  triggers = { postgres = module.postgres.container_id }
}

module "datastorage" {
  source = "../../modules/datastorage"

  name                 = "${var.name_prefix}-datastorage"
  network_name         = module.network.name
  image                = var.datastorage_image
  pull_image           = var.pull_images
  bind_address         = var.bind_address
  host_port            = var.datastorage_host_port
  health_host_port     = var.datastorage_health_host_port
  metrics_host_port    = var.datastorage_metrics_host_port
  log_level            = var.log_level
  restart              = var.restart_policy
  healthcheck_interval = var.healthcheck_interval

  postgres = {
    host = module.postgres.internal_host
    port = module.postgres.internal_port
    name = var.postgres_db
    user = var.postgres_user
  }
  postgres_password = var.postgres_password
  redis_addr        = module.redis.internal_addr
  redis_password    = var.redis_password
  api_tokens        = { shared = var.api_token }

  extra_env         = var.datastorage_extra_env
  mounts            = var.datastorage_mounts
  file_owner        = var.datastorage_file_owner
  preflight_command = []
  labels            = local.labels

  triggers = {
    migrate = module.migrate.container_id
    redis   = module.redis.container_id
  }
}
