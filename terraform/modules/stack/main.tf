# The dsenv stack: one network (or the caller's), PostgreSQL and Redis in parallel, the
# migration job once PostgreSQL answers, then the DS (after an optional preflight run) once the
# job exited 0. Both roots call this module: terraform/env (tests, `make up`) and
# terraform/envs/shared (the persistent shared environment); each passes only what differs
# (durability and volumes, fixed ports, restart policy, how the apply waits).
# Everything carries the dsenv.* labels.

locals {
  labels = merge(var.labels, {
    "dsenv.env"     = var.name_prefix
    "dsenv.owner"   = var.owner
    "dsenv.created" = var.created
  }, var.persistent ? { "dsenv.persistent" = "true" } : {})

  network_name  = var.network_name != "" ? var.network_name : module.network[0].name
  redis_durable = coalesce(var.redis_durable, var.postgres_durable)
}

module "network" {
  source = "../network"
  count  = var.network_name == "" ? 1 : 0

  name   = "${var.name_prefix}-net"
  labels = local.labels
}

module "postgres" {
  source = "../postgres"

  name         = "${var.name_prefix}-postgres"
  network_name = local.network_name
  image        = var.postgres_image
  pull_image   = var.pull_images
  user         = var.postgres_user
  password     = var.postgres_password
  db           = var.postgres_db
  bind_address = var.bind_address
  host_port    = var.postgres_host_port
  durable      = var.postgres_durable
  volume_name  = var.postgres_volume_name
  restart      = var.restart_policy
  labels       = local.labels
  # By default the apply does not stop to poll the health status (the provider polls once a
  # second): the migration job waits for PostgreSQL to answer SELECT 1 itself, every 250 ms.
  wait                 = var.data_store_wait
  healthcheck_interval = var.data_store_healthcheck_interval
}

module "redis" {
  source = "../redis"

  name         = "${var.name_prefix}-redis"
  network_name = local.network_name
  image        = var.redis_image
  pull_image   = var.pull_images
  password     = var.redis_password
  bind_address = var.bind_address
  host_port    = var.redis_host_port
  durable      = local.redis_durable
  volume_name  = var.redis_volume_name
  restart      = var.restart_policy
  labels       = local.labels
  # Not polled by default either: the DS preflight (or the DS itself) PINGs Redis with its
  # connect retries.
  wait                 = var.data_store_wait
  healthcheck_interval = var.data_store_healthcheck_interval
}

module "migrate" {
  source = "../migrate"

  name         = "${var.name_prefix}-migrate"
  network_name = local.network_name
  image        = var.migrate_image
  pull_image   = var.pull_images
  dsn          = module.postgres.dsn_internal
  # A PostgreSQL that does not come up fails the apply after this, with the job's log.
  wait_for_database = var.wait_for_database
  migrations_dir    = var.migrations_dir == "" ? "" : "/migrations"
  mounts            = var.migrations_dir == "" ? [] : [{ source = var.migrations_dir, target = "/migrations", read_only = true }]
  labels            = local.labels
  # Runs once PostgreSQL is up, and again whenever PostgreSQL is replaced (the data stays
  # where it is durable).
  triggers = { postgres = module.postgres.container_id }
}

module "datastorage" {
  source = "../datastorage"

  name              = "${var.name_prefix}-datastorage"
  network_name      = local.network_name
  image             = var.datastorage_image
  pull_image        = var.pull_images
  bind_address      = var.bind_address
  host_port         = var.datastorage_host_port
  health_host_port  = var.datastorage_health_host_port
  metrics_host_port = var.datastorage_metrics_host_port
  log_level         = var.log_level
  restart           = var.restart_policy

  postgres = {
    host = module.postgres.internal_host
    port = module.postgres.internal_port
    name = var.postgres_db
    user = var.postgres_user
  }
  postgres_password = var.postgres_password
  redis_addr        = var.datastorage_redis_addr != "" ? var.datastorage_redis_addr : module.redis.internal_addr
  redis_password    = var.redis_password
  api_tokens        = { (var.api_token_name) = var.api_token }

  connect_attempts   = var.connect_attempts
  connect_interval   = var.connect_interval
  dlq_retry_interval = var.dlq_retry_interval
  extra_env          = var.datastorage_extra_env
  mounts             = var.datastorage_mounts
  file_owner         = var.datastorage_file_owner
  preflight_command  = var.datastorage_preflight ? ["/datastorage", "preflight"] : []
  stop_grace_seconds = var.datastorage_stop_grace_seconds
  # The apply waits for this one unless datastorage_wait is false (tfharness polls /readyz
  # itself).
  wait                 = var.datastorage_wait
  healthcheck_interval = var.datastorage_healthcheck_interval
  healthcheck_command  = var.datastorage_healthcheck_command
  labels               = local.labels

  # Starts after the migrations exited 0 and Redis answers; replaced when they are.
  triggers = {
    migrate = module.migrate.container_id
    redis   = module.redis.container_id
  }
}
